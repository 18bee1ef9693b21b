// The reviewer desk: a queue per pool, the submission read-only in its
// workspace with earlier rounds as a diff, comments anchored to a box or a
// text span, and the verdict (Shift+A accept, Shift+R return, Shift+X reject).
import { useEffect, useState } from "preact/hooks";
import { Api, ApiError, type Appeal, type Anchor, type Comment, type PoolDetail, type Result, type ReviewLease } from "../api";
import { ErrorBox, GuidelinesButton, Loading } from "../components";
import { formatMoney, TASK_TYPE_NAMES } from "../lib/format";
import { asApiError, isTyping, useKeys, useLoad } from "../lib/hooks";
import { compareRounds } from "../lib/rounds";
import { linkProps, navigate } from "../lib/router";
import { Workspace } from "../workspaces";
import { CommentList, spanOf } from "../workspaces/AnchoredText";
import { DiffView } from "../workspaces/Text";
import { diffWords } from "../lib/diff";
import { LeaseTimer, useGuidelinesKey } from "./Work";

/** One open appeal: the note, the rejected work read-only, uphold or deny. */
function AppealCard({ appeal, onDecided }: { appeal: Appeal; onDecided: () => void }) {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const detail = useLoad(async () => {
    if (!open) return null;
    const sub = await Api.submission(appeal.submission_id);
    return { sub, pool: await Api.pool(sub.pool_id) };
  }, [open, appeal.submission_id]);
  const decide = async (decision: "uphold" | "deny") => {
    try {
      await Api.decideAppeal(appeal.id, decision, note);
      onDecided();
    } catch (e) {
      setError(asApiError(e));
    }
  };
  const d = detail.data;
  const last = d?.sub.rounds[d.sub.rounds.length - 1];
  return (
    <article class="card" aria-label={`Appeal ${appeal.id}`}>
      <p>
        <strong>Submission #{appeal.submission_id}</strong> — the annotator says: <q>{appeal.note}</q>
      </p>
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? "Hide the work" : "Show the work"}
      </button>
      {open && detail.error && <ErrorBox error={detail.error} />}
      {open && d && d.sub.task && last && (
        <>
          <CommentList comments={last.comments} text={anchorBase(last.result)} title="Why it was rejected" />
          <Workspace pool={d.pool} task={d.sub.task} value={last.result} onChange={() => {}} readOnly comments={last.comments} guidelines={d.pool.guidelines} />
        </>
      )}
      <label class="field">
        <span class="field-label">Decision note</span>
        <textarea value={note} onInput={(e) => setNote(e.currentTarget.value)} rows={2} />
      </label>
      <ErrorBox error={error} />
      <div class="row">
        <button type="button" class="primary" onClick={() => void decide("uphold")}>
          Uphold: accept and pay
        </button>
        <button type="button" onClick={() => void decide("deny")}>
          Deny
        </button>
      </div>
    </article>
  );
}

function Appeals() {
  const list = useLoad(() => Api.openAppeals(), []);
  if (list.error && !list.data) return <ErrorBox error={list.error} onRetry={list.reload} />;
  if (!list.data) return <Loading what="Loading appeals" />;
  if (list.data.appeals.length === 0) return <p class="muted">No open appeals.</p>;
  return (
    <div class="stack">
      <p class="muted">You decide appeals of rejections made by other reviewers only.</p>
      {list.data.appeals.map((a) => (
        <AppealCard key={a.id} appeal={a} onDecided={list.reload} />
      ))}
    </div>
  );
}

export function ReviewQueue() {
  const pools = useLoad(() => Api.pools(), []);
  if (pools.error && !pools.data) return <ErrorBox error={pools.error} onRetry={pools.reload} />;
  if (!pools.data) return <Loading what="Loading pools" />;
  const list = pools.data.pools.filter((p) => p.state !== "draft");
  return (
    <section>
      <h1>Review</h1>
      {list.length === 0 && <p>No pool is released yet.</p>}
      <div class="cards">
        {list.map((p) => (
          <article class="card" key={p.id} aria-label={p.name}>
            <div class="row between">
              <h2>{p.name}</h2>
              <span class="badge">{TASK_TYPE_NAMES[p.task_type] ?? p.task_type}</span>
            </div>
            <p class="muted">
              {formatMoney(p.price)} per task · up to {p.max_rounds} rounds · {p.state}
            </p>
            <button type="button" class="primary" onClick={() => navigate(`/review/${p.id}`)} aria-label={`Review: ${p.name}`}>
              Start reviewing
            </button>
          </article>
        ))}
      </div>
      <h2>Appeals</h2>
      <Appeals />
    </section>
  );
}

function anchorText(anchor: Anchor | null, text: string): string {
  if (!anchor) return "the whole submission";
  if ("box" in anchor) return `box ${anchor.box + 1}`;
  const s = spanOf(anchor)!;
  return `“${text.slice(s.start, s.end)}”`;
}

/** The text spans refer to, by task type: a round's text, or its rationale. */
function anchorBase(r: Result | undefined): string {
  if (!r) return "";
  return typeof r.text === "string" ? r.text : typeof r.rationale === "string" ? r.rationale : "";
}

export function ReviewDesk({ poolId }: { poolId: number }) {
  const pool = useLoad(() => Api.pool(poolId), [poolId]);
  const [lease, setLease] = useState<ReviewLease | null | undefined>(undefined);
  const [comments, setComments] = useState<Comment[]>([]);
  const [anchor, setAnchor] = useState<Anchor | null>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState<ApiError | string | null>(null);
  const [busy, setBusy] = useState(false);
  const [reviewed, setReviewed] = useState(0);
  const [guidelines, setGuidelines] = useState(false);
  useGuidelinesKey(setGuidelines);

  const next = async () => {
    setBusy(true);
    try {
      setLease(await Api.reviewClaim(poolId));
      setComments([]);
      setAnchor(null);
      setText("");
      setError(null);
    } catch (e) {
      setError(asApiError(e));
      setLease(null);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => void next(), [poolId]);

  const addComment = () => {
    if (!text.trim()) return setError("Write the comment first.");
    setComments([...comments, { text: text.trim(), anchor }]);
    setText("");
    setAnchor(null);
    setError(null);
  };

  const verdict = async (v: "accept" | "revise" | "reject") => {
    if (!lease || busy) return;
    if (v === "revise" && comments.length === 0) return setError("Add at least one comment saying what to change before returning it.");
    setBusy(true);
    try {
      await Api.review(lease.submission.id, v, comments);
      setReviewed((n) => n + 1);
      await next();
    } catch (e) {
      setError(asApiError(e));
      setBusy(false);
    }
  };

  useKeys((e) => {
    if (isTyping(e) || !e.shiftKey || e.ctrlKey || e.metaKey) return;
    const v = ({ A: "accept", R: "revise", X: "reject" } as const)[e.key as "A" | "R" | "X"];
    if (v) {
      e.preventDefault();
      void verdict(v);
    }
  }, [lease, comments, busy]);

  if (pool.error && !pool.data) return <ErrorBox error={pool.error} onRetry={pool.reload} />;
  if (!pool.data || lease === undefined) return <Loading what="Getting a submission to review" />;
  const p: PoolDetail = pool.data;
  const header = (
    <div class="work-bar">
      <h1>Review: {p.name}</h1>
      <div class="spacer" />
      {reviewed > 0 && <span class="muted">{reviewed} reviewed this session</span>}
      {lease && <LeaseTimer expiresAt={lease.submission.review_expires_at} label="Review lease" />}
      <GuidelinesButton text={p.guidelines} open={guidelines} setOpen={setGuidelines} />
    </div>
  );
  if (!lease) {
    return (
      <section>
        {header}
        <ErrorBox error={error} />
        <div class="notice" role="status">
          <p>Nothing is waiting for review in this pool.</p>
          <p>
            <button type="button" onClick={() => void next()} disabled={busy}>
              Check again
            </button>{" "}
            <a {...linkProps("/review")}>Other pools</a>
          </p>
        </div>
      </section>
    );
  }
  const sub = lease.submission;
  const rounds = sub.rounds;
  const current = rounds[rounds.length - 1];
  const previous = rounds.length > 1 ? rounds[rounds.length - 2] : null;
  const change = previous ? compareRounds(p.task_type, previous.result, current.result) : null;
  const base = anchorBase(current.result);
  return (
    <section aria-label="Review desk">
      {header}
      <p class="muted">
        Task #{lease.task.id} · round {sub.round} of at most {p.max_rounds}
      </p>
      <ErrorBox error={error} />
      <div class="review-layout">
        <div>
          <Workspace pool={lease.pool} task={lease.task} value={current.result} onChange={() => {}} readOnly comments={comments} onAnchor={setAnchor} guidelines={p.guidelines} />
          {previous && change && (
            <section class="card" aria-label="Changes since the previous round">
              <h2>Changes since round {previous.round}</h2>
              {change.notes.map((n) => (
                <p key={n}>{n}</p>
              ))}
              {change.text && change.text.before !== change.text.after && <DiffView ops={diffWords(change.text.before, change.text.after)} label="Text changes" />}
              <CommentList comments={previous.comments} text={anchorBase(previous.result)} title={`Comments on round ${previous.round}`} />
            </section>
          )}
        </div>
        <aside class="card review-side" aria-label="Verdict">
          <h2>Comments</h2>
          <CommentList comments={comments} text={base} title="Comments to send" />
          <p class="muted">
            Anchor: {anchorText(anchor, base)}{" "}
            {anchor && (
              <button type="button" onClick={() => setAnchor(null)}>
                Clear anchor
              </button>
            )}
          </p>
          <p class="hint">Select a box or a passage of text to anchor the comment there.</p>
          <label class="field">
            <span class="field-label">Comment</span>
            <textarea value={text} onInput={(e) => setText(e.currentTarget.value)} rows={3} />
          </label>
          <button type="button" onClick={addComment}>
            Add comment
          </button>
          <h2>Verdict</h2>
          <div class="choices">
            <button type="button" class="primary" onClick={() => void verdict("accept")} disabled={busy}>
              Accept <kbd>Shift+A</kbd>
            </button>
            <button type="button" onClick={() => void verdict("revise")} disabled={busy}>
              Return for revision <kbd>Shift+R</kbd>
            </button>
            <button type="button" class="danger" onClick={() => void verdict("reject")} disabled={busy}>
              Reject <kbd>Shift+X</kbd>
            </button>
          </div>
        </aside>
      </div>
    </section>
  );
}
