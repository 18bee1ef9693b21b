// The annotator's work loop: lease a task, work on it in its workspace,
// submit and get the next one in the same request, give back, lease timer.
import { useEffect, useRef, useState } from "preact/hooks";
import { Api, ApiError, type ClaimResponse, type PoolDetail, type Result } from "../api";
import { ErrorBox, Field, GuidelinesButton, Loading } from "../components";
import { recordActivity, shouldSuggestBreak, snooze, startFatigue, type FatigueState } from "../lib/fatigue";
import { headings } from "../lib/markdown";
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

const FATIGUE_KEY = "tessera.fatigue";

/** The break prompt: after the pool's `break_after_minutes` of continuous work. */
function useBreakPrompt(breakAfterMinutes: number): { due: boolean; keepGoing: () => void; takeBreak: () => void } {
  const load = (): FatigueState => {
    try {
      const s = JSON.parse(sessionStorage.getItem(FATIGUE_KEY) ?? "");
      if (typeof s?.since === "number") return s;
    } catch {
      // No saved state.
    }
    return startFatigue(Date.now());
  };
  const state = useRef<FatigueState>(load());
  const [due, setDue] = useState(false);
  const save = (s: FatigueState) => {
    state.current = s;
    sessionStorage.setItem(FATIGUE_KEY, JSON.stringify(s));
  };
  useEffect(() => {
    const activity = () => save(recordActivity(state.current, Date.now()));
    const check = () => setDue(shouldSuggestBreak(state.current, Date.now(), breakAfterMinutes));
    window.addEventListener("keydown", activity);
    window.addEventListener("pointerdown", activity);
    activity();
    check();
    const timer = setInterval(check, 15_000);
    return () => {
      window.removeEventListener("keydown", activity);
      window.removeEventListener("pointerdown", activity);
      clearInterval(timer);
    };
  }, [breakAfterMinutes]);
  return {
    due,
    keepGoing: () => {
      save(snooze(state.current, Date.now()));
      setDue(false);
    },
    takeBreak: () => {
      sessionStorage.removeItem(FATIGUE_KEY);
      navigate("/");
    },
  };
}

/** "Flag as ambiguous": a guideline section and a note, sent to the requester. */
function FlagForm({ taskId, guidelines, onDone }: { taskId: number; guidelines: string; onDone: (sent: boolean) => void }) {
  const sections = headings(guidelines);
  const [section, setSection] = useState(sections[0] ?? "");
  const [note, setNote] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const send = async (e: Event) => {
    e.preventDefault();
    try {
      await Api.flagTask(taskId, section, note);
      onDone(true);
    } catch (ex) {
      setError(asApiError(ex));
    }
  };
  return (
    <form class="card flag-form" onSubmit={send} aria-label="Flag this task as ambiguous">
      <p class="muted">Tell the requester which part of the guidelines does not settle this task. Flagging does not skip the task.</p>
      <Field label="Guideline section" error={error?.field === "section" ? error.message : null}>
        {sections.length ? (
          <select value={section} onChange={(e) => setSection(e.currentTarget.value)}>
            {sections.map((h) => (
              <option key={h}>{h}</option>
            ))}
          </select>
        ) : (
          <input value={section} onInput={(e) => setSection(e.currentTarget.value)} required />
        )}
      </Field>
      <Field label="What is ambiguous" error={error?.field === "note" ? error.message : null}>
        <textarea value={note} onInput={(e) => setNote(e.currentTarget.value)} rows={2} required />
      </Field>
      {error && !["section", "note"].includes(error.field ?? "") && <ErrorBox error={error} />}
      <div class="row">
        <button type="submit">Send flag</button>
        <button type="button" onClick={() => onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
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
  // The claim whose draft `value` is: set once per claim id, in start().
  const draftOf = useRef<number | null>(null);
  const activeSeconds = useActiveTime(claim?.claim.id);
  const leaseLeft = useCountdown(claim?.claim.expires_at);
  const workforce = (pool.data?.config.workforce ?? {}) as { break_after_minutes?: number };
  const breakPrompt = useBreakPrompt(workforce.break_after_minutes ?? 0);
  const [flagging, setFlagging] = useState(false);
  const [flagged, setFlagged] = useState<number | null>(null);

  // Shows a lease. A lease of the claim already on screen keeps its draft and
  // idempotency key: the server answers a lease with the caller's active claim
  // while it lasts (e.g. "Lease a task again" when this page's clock ran out
  // before the server's), and that answer must not undo the user's edits.
  const start = (c: ClaimResponse | null, p: PoolDetail) => {
    setClaim(c);
    setError(null);
    const id = c?.claim.id ?? null;
    if (id !== null && id === draftOf.current) return;
    draftOf.current = id;
    key.current = newIdempotencyKey();
    setValue(c ? initialResult(p, c.task) : null);
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
          <button type="button" onClick={() => setFlagging(!flagging)} aria-expanded={flagging} disabled={flagged === claim.task.id}>
            {flagged === claim.task.id ? "Flagged" : "Flag as ambiguous"}
          </button>
        )}
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
      {breakPrompt.due && (
        <div class="notice break-prompt" role="status" aria-label="Break">
          You have been working for {workforce.break_after_minutes} minutes without a pause. A short break keeps the work good.{" "}
          <button type="button" onClick={breakPrompt.takeBreak}>
            Take a break
          </button>{" "}
          <button type="button" onClick={breakPrompt.keepGoing}>
            Keep going
          </button>
        </div>
      )}
      {claim && flagging && (
        <FlagForm
          taskId={claim.task.id}
          guidelines={p.guidelines}
          onDone={(sent) => {
            setFlagging(false);
            if (sent) setFlagged(claim.task.id);
          }}
        />
      )}
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
