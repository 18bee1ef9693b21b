// A pool's trial: known-answer tasks in the pool's workspace, one after the
// other; then the result with feedback on every task.
import { useEffect, useRef, useState } from "preact/hooks";
import { Api, ApiError, type PoolDetail, type Result, type Task } from "../api";
import { ErrorBox, GuidelinesButton, Loading } from "../components";
import { formatPercent } from "../lib/format";
import { asApiError, useActiveTime, useKeys, useLoad } from "../lib/hooks";
import { initialResult, validateResult } from "../lib/results";
import { linkProps } from "../lib/router";
import { Workspace } from "../workspaces";
import { isSubmitKey, useGuidelinesKey } from "./Work";

export interface TrialTask {
  trial_task_id: number;
  data: Task["data"];
  answered?: boolean;
  result?: Result | null;
  score?: number | null;
  feedback?: string | null;
}
export interface TrialAttempt {
  id: number;
  pool_id: number;
  state: "in_progress" | "grading" | "passed" | "failed";
  score?: number | null;
  tasks: TrialTask[];
  pass_threshold?: number;
  [key: string]: unknown;
}

function Results({ attempt, pool }: { attempt: TrialAttempt; pool: PoolDetail }) {
  const passed = attempt.state === "passed";
  return (
    <section class="stack" aria-label="Trial result">
      <div class={`notice ${passed ? "" : ""}`} role="status">
        {attempt.state === "grading" ? (
          <p>All answers are in. A reviewer grades free-text trials; the result appears here and on your start page.</p>
        ) : (
          <p>
            <strong>{passed ? "You passed the trial." : "You did not pass this time."}</strong> Score {formatPercent(attempt.score ?? null)}
            {attempt.pass_threshold != null && <> (needed {formatPercent(attempt.pass_threshold)})</>}.{" "}
            {passed ? <a {...linkProps(`/work/${pool.id}`)}>Start working in {pool.name}</a> : <a {...linkProps("/")}>Back to your pools</a>}
          </p>
        )}
      </div>
      <table aria-label="Feedback per task">
        <thead>
          <tr>
            <th>Task</th>
            <th class="num">Score</th>
            <th>Feedback</th>
          </tr>
        </thead>
        <tbody>
          {attempt.tasks.map((t, i) => (
            <tr key={t.trial_task_id}>
              <td>{i + 1}</td>
              <td class="num">{t.score == null ? "—" : formatPercent(t.score)}</td>
              <td>{t.feedback || <span class="muted">not graded yet</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Trial({ poolId }: { poolId: number }) {
  const pool = useLoad(() => Api.pool(poolId), [poolId]);
  const [attempt, setAttempt] = useState<TrialAttempt | null>(null);
  const [value, setValue] = useState<Result | null>(null);
  const [error, setError] = useState<ApiError | string | null>(null);
  const [busy, setBusy] = useState(false);
  const [guidelines, setGuidelines] = useState(false);
  useGuidelinesKey(setGuidelines);
  const current = attempt?.state === "in_progress" ? attempt.tasks.find((t) => !t.answered) : undefined;
  const activeSeconds = useActiveTime(current?.trial_task_id);
  const started = useRef(false);

  useEffect(() => {
    if (!pool.data || started.current) return;
    started.current = true;
    Api.startTrial(poolId)
      .then((a) => setAttempt(a as TrialAttempt))
      .catch((e) => setError(asApiError(e)));
  }, [pool.data?.id]);

  useEffect(() => {
    if (current && pool.data) setValue(initialResult(pool.data, { id: current.trial_task_id, pool_id: poolId, data: current.data }));
  }, [current?.trial_task_id]);

  const answer = async () => {
    if (!attempt || !current || !pool.data || busy) return;
    const problem = validateResult(pool.data, value);
    if (problem) return setError(problem);
    setBusy(true);
    try {
      await Api.trialAnswer(attempt.id, current.trial_task_id, value!, activeSeconds());
      setAttempt((await Api.trial(attempt.id)) as TrialAttempt);
      setError(null);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  useKeys((e) => {
    if (isSubmitKey(e)) {
      e.preventDefault();
      void answer();
    }
  }, [attempt, current, value, busy]);

  if (pool.error && !pool.data) return <ErrorBox error={pool.error} onRetry={pool.reload} />;
  if (!pool.data) return <Loading what="Loading the pool" />;
  const p = pool.data;
  const index = attempt && current ? attempt.tasks.indexOf(current) : -1;
  return (
    <section aria-label="Trial">
      <div class="work-bar">
        <h1>Trial: {p.name}</h1>
        {attempt && current && (
          <span class="muted">
            task {index + 1} of {attempt.tasks.length}
          </span>
        )}
        <div class="spacer" />
        <GuidelinesButton text={p.guidelines} open={guidelines} setOpen={setGuidelines} />
        {current && (
          <button type="button" class="primary" onClick={answer} disabled={busy}>
            Answer <kbd>Ctrl+Enter</kbd>
          </button>
        )}
      </div>
      <ErrorBox error={error} />
      {!attempt && !error && <Loading what="Starting the trial" />}
      {attempt && current && (
        <Workspace
          key={current.trial_task_id}
          pool={p}
          task={{ id: current.trial_task_id, pool_id: poolId, data: current.data, image_route: `/trials/${attempt.id}/image?task=${current.trial_task_id}` }}
          value={value}
          onChange={setValue}
          guidelines={p.guidelines}
        />
      )}
      {attempt && !current && <Results attempt={attempt} pool={p} />}
    </section>
  );
}

