// The workforce side of a pool's dashboard: guideline flags per section next
// to the disagreement they cause, who got which task and why, annotators'
// standing, and blocking an annotator from the project.
import { useState } from "preact/hooks";
import { Api, ApiError, type PoolDetail } from "../api";
import { ErrorBox, Loading } from "../components";
import { formatDate, formatPercent } from "../lib/format";
import { asApiError, useLoad } from "../lib/hooks";
import { useSession } from "../session";
import { tierName } from "./Standing";

type Json = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" ? v : v == null ? "" : String(v));
const arr = (v: unknown) => (Array.isArray(v) ? (v as Json[]) : []);
const num = (v: unknown) => (typeof v === "number" ? v : null);

function Flags({ poolId }: { poolId: number }) {
  const flags = useLoad(() => Api.poolFlags(poolId), [poolId]);
  if (flags.error && !flags.data) return <ErrorBox error={flags.error} onRetry={flags.reload} />;
  if (!flags.data) return <Loading what="Loading flags" />;
  const sections = arr((flags.data as Json).sections);
  if (!sections.length) return <p class="muted">No annotator has flagged a task as ambiguous.</p>;
  return (
    <div class="stack">
      {sections.map((s) => (
        <details key={str(s.section)} class="card">
          <summary>
            <strong>{str(s.section)}</strong> — {str(s.count)} flag{s.count === 1 ? "" : "s"}
          </summary>
          <ul>
            {arr(s.notes ?? s.flags).map((n, i) => (
              <li key={i}>{typeof n === "string" ? n : str(n.note)}</li>
            ))}
          </ul>
          {arr(s.tasks).length > 0 && (
            <table aria-label={`Flagged tasks in ${str(s.section)}`}>
              <thead>
                <tr>
                  <th>Task</th>
                  <th>Disagreement</th>
                </tr>
              </thead>
              <tbody>
                {arr(s.tasks).map((t) => (
                  <tr key={str(t.task_id)}>
                    <td>#{str(t.task_id)}</td>
                    <td>{describeDisagreement(t)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </details>
      ))}
    </div>
  );
}

/** A flagged task's disagreement: from the quality snapshot, or from the answers so far. */
function describeDisagreement(t: Json): string {
  const parts: string[] = [];
  if (num(t.disagreement) !== null) parts.push(`disagreement ${formatPercent(t.disagreement as number)}`);
  if (num(t.confidence) !== null) parts.push(`confidence ${formatPercent(t.confidence as number)}`);
  if (t.label !== undefined) parts.push(`inferred ${str(t.label)}`);
  if (t.answers && typeof t.answers === "object") {
    const answers = Array.isArray(t.answers) ? t.answers.map((a) => (typeof a === "string" ? a : JSON.stringify(a))) : Object.entries(t.answers as Json).map(([k, v]) => `${k}: ${str(v)}`);
    parts.push(`answers ${answers.join(", ")}`);
  }
  if (t.source) parts.push(`(${str(t.source).replace(/_/g, " ")})`);
  return parts.join(" · ") || "—";
}

function BlockButton({ projectId, annotatorId, onDone }: { projectId: number; annotatorId: number; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  if (!open) {
    return (
      <button type="button" class="danger" onClick={() => setOpen(true)} aria-label={`Block annotator ${annotatorId}`}>
        Block
      </button>
    );
  }
  const block = async (e: Event) => {
    e.preventDefault();
    try {
      await Api.block(projectId, annotatorId, reason);
      setOpen(false);
      onDone();
    } catch (ex) {
      setError(asApiError(ex));
    }
  };
  return (
    <form onSubmit={block} class="row">
      <input aria-label="Reason for the block" value={reason} onInput={(e) => setReason(e.currentTarget.value)} placeholder="Reason (shown to them)" required />
      <button type="submit" class="danger">
        Block in this project
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

// Admins may invite a reviewer-eligible annotator to review; the server's
// refusal (already a reviewer, an invitation pending) shows next to the button.
function InviteToReview({ userId }: { userId: number }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [sent, setSent] = useState(false);
  const invite = async () => {
    setError(null);
    try {
      await Api.inviteReviewer(userId);
      setSent(true);
    } catch (e) {
      setError(asApiError(e));
    }
  };
  if (sent) return <span class="badge ok">invited to review</span>;
  return (
    <span class="row">
      <button type="button" onClick={invite}>
        Invite to review
      </button>
      <ErrorBox error={error} />
    </span>
  );
}

function AnnotatorStanding({ userId }: { userId: number }) {
  const { me } = useSession();
  const st = useLoad(() => Api.userStanding(userId), [userId]);
  if (st.error) return <ErrorBox error={st.error} />;
  if (!st.data) return <Loading what="Loading standing" />;
  const s = st.data as Json;
  const o = (s.overall ?? s) as Json;
  return (
    <span>
      {tierName(o.tier)} · score {num(o.score)?.toFixed(2) ?? "—"}
      {arr(o.factors)
        .filter((f) => f.name === "gold_accuracy" && num(f.count))
        .map((f) => ` · gold ${formatPercent(f.smoothed as number)} of ${f.count}`)}
      {o.tier === "reviewer_eligible" && me.roles.includes("admin") && <InviteToReview userId={userId} />}
    </span>
  );
}

function Claims({ pool }: { pool: PoolDetail }) {
  const claims = useLoad(() => Api.poolClaims(pool.id), [pool.id]);
  const blocks = useLoad(() => Api.blocks(pool.project_id), [pool.project_id]);
  const [shown, setShown] = useState<number | null>(null);
  if (claims.error && !claims.data) return <ErrorBox error={claims.error} onRetry={claims.reload} />;
  if (!claims.data) return <Loading what="Loading claims" />;
  const list = arr((claims.data as Json).claims).slice(0, 50);
  const blocked = new Set(arr((blocks.data as Json | null)?.blocks).map((b) => Number(b.annotator_id)));
  if (!list.length) return <p class="muted">No claims yet.</p>;
  return (
    <table aria-label="Recent claims and why">
      <thead>
        <tr>
          <th>When</th>
          <th>Annotator</th>
          <th>Task</th>
          <th>Why this task went to them</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {list.map((c) => {
          const who = Number(c.annotator_id);
          const reason = (c.reason ?? {}) as Json;
          return (
            <tr key={str(c.id)}>
              <td>{formatDate(str(c.created_at))}</td>
              <td>
                <button type="button" class="link" onClick={() => setShown(shown === who ? null : who)} aria-expanded={shown === who}>
                  {str(c.annotator ?? c.username) || `#${who}`}
                </button>
                {shown === who && (
                  <div>
                    <AnnotatorStanding userId={who} />
                  </div>
                )}
              </td>
              <td>#{str(c.task_id)}</td>
              <td>
                <span class="badge">{str(reason.policy) || "—"}</span>{" "}
                <span class="muted">
                  {Object.entries(reason)
                    .filter(([k]) => k !== "policy")
                    .map(([k, v]) => `${k.replace(/_/g, " ")} ${typeof v === "number" ? +v.toFixed(3) : str(v)}`)
                    .join(" · ")}
                </span>
              </td>
              <td>
                {blocked.has(who) ? (
                  <span class="badge bad">blocked</span>
                ) : (
                  <BlockButton projectId={pool.project_id} annotatorId={who} onDone={blocks.reload} />
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function PoolWorkforce({ pool }: { pool: PoolDetail }) {
  return (
    <div class="req-grid dash-section">
      <div class="card">
        <h2>Guideline flags</h2>
        <Flags poolId={pool.id} />
      </div>
      <div class="card">
        <h2>Who works here</h2>
        <Claims pool={pool} />
      </div>
    </div>
  );
}
