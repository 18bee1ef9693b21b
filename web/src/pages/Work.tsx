// The annotator's work loop: lease a task, work on it in its workspace,
// submit and get the next one in the same request, give back, lease timer.
import { useEffect, useRef, useState } from "preact/hooks";
import { Api, ApiError, type ClaimResponse, type PoolDetail, type Result } from "../api";
import { ErrorBox, GuidelinesButton, Loading } from "../components";
import { formatDuration, formatMoney } from "../lib/format";
import { asApiError, isTyping, newIdempotencyKey, useActiveTime, useCountdown, useKeys, useLoad } from "../lib/hooks";
import { initialResult, validateResult } from "../lib/results";
import { linkProps, navigate } from "../lib/router";
import { Workspace } from "../workspaces";

export function LeaseTimer({ expiresAt, label = "Lease" }: { expiresAt: string; label?: string }) {
  const left = useCountdown(expiresAt) ?? 0;
  return (
    <span class={`timer ${left < 60 ? "low" : ""}`} role="timer" aria-label={`${label} time left`}>
      {left > 0 ? `${label}: ${formatDuration(left)} left` : `${label} expired`}
    </span>
  );
}

/** Ctrl+Enter (or Cmd+Enter) anywhere, text fields included. */
export function isSubmitKey(e: KeyboardEvent): boolean {
  return e.key === "Enter" && (e.ctrlKey || e.metaKey);
}

export function useGuidelinesKey(setOpen: (f: (o: boolean) => boolean) => void) {
  useKeys((e) => {
    if (!isTyping(e) && e.key === "g" && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      setOpen((o) => !o);
    }
  }, []);
}

export function Work({ poolId }: { poolId: number }) {
  const pool = useLoad(() => Api.pool(poolId), [poolId]);
  const [claim, setClaim] = useState<ClaimResponse | null | undefined>(undefined);
  const [value, setValue] = useState<Result | null>(null);
  const [error, setError] = useState<ApiError | string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(0);
  const [guidelines, setGuidelines] = useState(false);
  const key = useRef(newIdempotencyKey());
  const activeSeconds = useActiveTime(claim?.claim.id);
  const leaseLeft = useCountdown(claim?.claim.expires_at);

  const start = (c: ClaimResponse | null, p: PoolDetail) => {
    setClaim(c);
    key.current = newIdempotencyKey();
    setValue(c ? initialResult(p, c.task) : null);
    setError(null);
  };

  const lease = async (p: PoolDetail) => {
    setBusy(true);
    try {
      start(await Api.claim(poolId), p);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (pool.data) void lease(pool.data);
  }, [pool.data?.id]);

  const submit = async () => {
    if (!claim || !pool.data || busy) return;
    const problem = validateResult(pool.data, value);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    try {
      const sub = await Api.submit(claim.claim.id, value!, activeSeconds(), key.current, true);
      setDone((d) => d + 1);
      if (sub.next !== undefined) start(sub.next, pool.data);
      else start(await Api.claim(poolId), pool.data);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };

  const giveBack = async () => {
    if (!claim) return;
    setBusy(true);
    try {
      await Api.giveBack(claim.claim.id);
      navigate("/");
    } catch (e) {
      setError(asApiError(e));
      setBusy(false);
    }
  };

  useKeys((e) => {
    if (isSubmitKey(e)) {
      e.preventDefault();
      void submit();
    }
  }, [claim, value, busy]);
  useGuidelinesKey(setGuidelines);

  if (pool.error && !pool.data) return <ErrorBox error={pool.error} onRetry={pool.reload} />;
  if (!pool.data || claim === undefined) {
    return (
      <>
        <ErrorBox error={error} onRetry={() => pool.data && void lease(pool.data)} />
        {!error && <Loading what="Getting a task" />}
      </>
    );
  }
  const p = pool.data;
  return (
    <section aria-label="Workspace">
      <div class="work-bar">
        <h1>{p.name}</h1>
        <span class="muted">{formatMoney(p.price)} per accepted task</span>
        <div class="spacer" />
        {done > 0 && <span class="muted">{done} submitted this session</span>}
        {claim && <LeaseTimer expiresAt={claim.claim.expires_at} />}
        <GuidelinesButton text={p.guidelines} open={guidelines} setOpen={setGuidelines} />
        {claim && (
          <button type="button" onClick={giveBack} disabled={busy}>
            Give back
          </button>
        )}
        {claim && (
          <button type="button" class="primary" onClick={submit} disabled={busy} title="Ctrl+Enter">
            Submit <kbd>Ctrl+Enter</kbd>
          </button>
        )}
      </div>
      <ErrorBox error={error} />
      {claim && leaseLeft === 0 && (
        <div class="notice" role="alert">
          Your lease on this task ran out, so the task may go to someone else and a submit will be refused.{" "}
          <button type="button" onClick={() => void lease(p)} disabled={busy}>
            Lease a task again
          </button>
        </div>
      )}
      {claim ? (
        <Workspace key={claim.claim.id} pool={p} task={claim.task} value={value} onChange={setValue} guidelines={p.guidelines} />
      ) : (
        <div class="notice" role="status">
          <p>No task is left for you in this pool{done > 0 ? ` — you submitted ${done} this session` : ""}.</p>
          <p>
            <a {...linkProps("/")}>Back to your pools</a>
          </p>
        </div>
      )}
    </section>
  );
}
