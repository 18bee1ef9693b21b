// Returned work: submissions the reviewer sent back, each reopened in its
// workspace with the comments where they are anchored, resubmitted as the
// next round.
import { useRef, useState } from "preact/hooks";
import { Api, ApiError, type Appeal, type PoolListItem, type Result, type Submission } from "../api";
import { ErrorBox, Field, GuidelinesButton, Loading } from "../components";
import { formatDate } from "../lib/format";
import { asApiError, newIdempotencyKey, useActiveTime, useKeys, useLoad } from "../lib/hooks";
import { validateResult } from "../lib/results";
import { linkProps, navigate } from "../lib/router";
import { Workspace } from "../workspaces";
import { isSubmitKey, useGuidelinesKey } from "./Work";

/** One rejected submission: its reviewer's comments, and an appeal with a note. */
function RejectedRow({ sub, poolName, appeal, onAppealed }: { sub: Submission; poolName: string; appeal?: Appeal; onAppealed: () => void }) {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const last = sub.rounds[sub.rounds.length - 1];
  const send = async (e: Event) => {
    e.preventDefault();
    try {
      await Api.appeal(sub.id, note);
      setOpen(false);
      onAppealed();
    } catch (ex) {
      setError(asApiError(ex));
    }
  };
  return (
    <tr>
      <td>{poolName}</td>
      <td>#{sub.task_id}</td>
      <td>{last?.comments.map((c) => c.text).join(" · ") || <span class="muted">no comment</span>}</td>
      <td>
        {appeal ? (
          <span class={`badge ${appeal.state === "upheld" ? "ok" : appeal.state === "denied" ? "bad" : "warn"}`}>
            appeal {appeal.state}
            {appeal.decision_note ? `: ${appeal.decision_note}` : ""}
          </span>
        ) : open ? (
          <form onSubmit={send} aria-label={`Appeal task ${sub.task_id}`}>
            <Field label="Why the rejection is wrong" error={error?.field === "note" ? error.message : null}>
              <textarea value={note} onInput={(e) => setNote(e.currentTarget.value)} rows={2} required />
            </Field>
            {error && error.field !== "note" && <ErrorBox error={error} />}
            <button type="submit">Send appeal</button>{" "}
            <button type="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </form>
        ) : (
          <button type="button" onClick={() => setOpen(true)} aria-label={`Appeal the rejection of task ${sub.task_id}`}>
            Appeal
          </button>
        )}
      </td>
    </tr>
  );
}

function Rejected({ pools }: { pools: PoolListItem[] }) {
  const list = useLoad(() => Promise.all([Api.mySubmissions("rejected"), Api.myAppeals().catch(() => ({ appeals: [] as Appeal[] }))]), []);
  if (list.error && !list.data) return <ErrorBox error={list.error} onRetry={list.reload} />;
  if (!list.data) return <Loading what="Loading rejected work" />;
  const [{ submissions }, { appeals }] = list.data;
  // Upheld appeals turn the submission accepted; show every appealed one here too.
  if (submissions.length === 0 && appeals.length === 0) return <p class="muted">Nothing of yours was rejected.</p>;
  const poolName = (id: number) => pools.find((p) => p.id === id)?.name ?? `Pool ${id}`;
  const bySubmission = new Map(appeals.map((a) => [a.submission_id, a]));
  return (
    <table aria-label="Rejected submissions">
      <thead>
        <tr>
          <th>Pool</th>
          <th>Task</th>
          <th>Reviewer says</th>
          <th>Appeal</th>
        </tr>
      </thead>
      <tbody>
        {submissions.map((s) => (
          <RejectedRow key={s.id} sub={s} poolName={poolName(s.pool_id)} appeal={bySubmission.get(s.id)} onAppealed={list.reload} />
        ))}
        {appeals
          .filter((a) => a.state === "upheld" && !submissions.some((s) => s.id === a.submission_id))
          .map((a) => (
            <tr key={`a${a.id}`}>
              <td colSpan={3}>Submission #{a.submission_id}: rejection reversed on appeal, paid</td>
              <td>
                <span class="badge ok">appeal upheld{a.decision_note ? `: ${a.decision_note}` : ""}</span>
              </td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}

export function Returned() {
  const list = useLoad(() => Promise.all([Api.mySubmissions("returned"), Api.pools()]), []);
  if (list.error && !list.data) return <ErrorBox error={list.error} onRetry={list.reload} />;
  if (!list.data) return <Loading what="Loading returned work" />;
  const [{ submissions }, { pools }] = list.data;
  const poolName = (id: number) => pools.find((p) => p.id === id)?.name ?? `Pool ${id}`;
  return (
    <section>
      <h1>Returned work</h1>
      {submissions.length === 0 ? (
        <p>Nothing was sent back to you. Work the reviewer returns for revision appears here.</p>
      ) : (
        <table aria-label="Returned submissions">
          <thead>
            <tr>
              <th>Pool</th>
              <th>Task</th>
              <th class="num">Round</th>
              <th>Reviewer says</th>
              <th>Returned</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {submissions.map((s) => {
              const last = s.rounds[s.rounds.length - 1];
              return (
                <tr key={s.id}>
                  <td>{poolName(s.pool_id)}</td>
                  <td>#{s.task_id}</td>
                  <td class="num">{s.round}</td>
                  <td>{last?.comments.map((c) => c.text).join(" · ")}</td>
                  <td>{formatDate(last?.reviewed_at)}</td>
                  <td>
                    <a {...linkProps(`/returned/${s.id}`)} aria-label={`Revise task ${s.task_id}`}>
                      Revise
                    </a>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <h2>Rejected work</h2>
      <p class="muted">If a rejection looks wrong, appeal it with a note: a different reviewer decides, and an upheld appeal pays and restores your standing.</p>
      <Rejected pools={pools} />
    </section>
  );
}

export function ReturnedItem({ submissionId }: { submissionId: number }) {
  const loaded = useLoad(async () => {
    const sub = await Api.submission(submissionId);
    const pool = await Api.pool(sub.pool_id);
    return { sub, pool };
  }, [submissionId]);
  const [value, setValue] = useState<Result | null>(null);
  const [error, setError] = useState<ApiError | string | null>(null);
  const [busy, setBusy] = useState(false);
  const [guidelines, setGuidelines] = useState(false);
  const key = useRef(newIdempotencyKey());
  const activeSeconds = useActiveTime(submissionId);
  useGuidelinesKey(setGuidelines);

  const data = loaded.data;
  const last = data?.sub.rounds[data.sub.rounds.length - 1];
  const current = value ?? (last?.result as Result | undefined) ?? null;

  const resubmit = async () => {
    if (!data || busy) return;
    const problem = validateResult(data.pool, current);
    if (problem) return setError(problem);
    setBusy(true);
    try {
      await Api.revise(submissionId, current!, activeSeconds(), key.current);
      navigate("/returned");
    } catch (e) {
      setError(asApiError(e));
      setBusy(false);
    }
  };
  useKeys((e) => {
    if (isSubmitKey(e)) {
      e.preventDefault();
      void resubmit();
    }
  }, [current, busy, data]);

  if (loaded.error && !data) return <ErrorBox error={loaded.error} onRetry={loaded.reload} />;
  if (!data || !data.sub.task) return <Loading what="Loading the submission" />;
  const { sub, pool } = data;
  const editable = sub.state === "returned";
  return (
    <section aria-label="Revision">
      <div class="work-bar">
        <h1>
          {pool.name}: task #{sub.task_id}
        </h1>
        <span class="muted">
          round {sub.round} of at most {pool.max_rounds}
        </span>
        <div class="spacer" />
        <GuidelinesButton text={pool.guidelines} open={guidelines} setOpen={setGuidelines} />
        {editable && (
          <button type="button" class="primary" onClick={resubmit} disabled={busy}>
            Resubmit as round {sub.round + 1} <kbd>Ctrl+Enter</kbd>
          </button>
        )}
      </div>
      {!editable && <p class="notice">This submission is {sub.state.replace("_", " ")}; there is nothing to revise.</p>}
      <ErrorBox error={error} />
      <Workspace pool={pool} task={sub.task!} value={current} onChange={setValue} readOnly={!editable} comments={last?.comments ?? []} guidelines={pool.guidelines} />
    </section>
  );
}
