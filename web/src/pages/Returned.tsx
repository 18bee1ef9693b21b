// Returned work: submissions the reviewer sent back, each reopened in its
// workspace with the comments where they are anchored, resubmitted as the
// next round.
import { useRef, useState } from "preact/hooks";
import { Api, ApiError, type Result } from "../api";
import { ErrorBox, GuidelinesButton, Loading } from "../components";
import { formatDate } from "../lib/format";
import { asApiError, newIdempotencyKey, useActiveTime, useKeys, useLoad } from "../lib/hooks";
import { validateResult } from "../lib/results";
import { linkProps, navigate } from "../lib/router";
import { Workspace } from "../workspaces";
import { isSubmitKey, useGuidelinesKey } from "./Work";

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
