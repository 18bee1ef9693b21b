// The annotator's start page: pools they may work on (price, expected hourly
// earnings, their standing there) and, for pools they cannot enter, why.
import { useEffect } from "preact/hooks";
import { Api, type PoolListItem } from "../api";
import { ErrorBox, Loading } from "../components";
import { formatMoney, formatPercent, TASK_TYPE_NAMES } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { linkProps, navigate } from "../lib/router";
import { hasRole, useSession } from "../session";

function Standing({ pool }: { pool: PoolListItem }) {
  const w = pool.my_work;
  if (!w || w.submitted === 0) return <p class="muted">You have not worked in this pool yet.</p>;
  const reviewed = w.accepted + w.rejected;
  return (
    <p class="muted">
      Your work here: {w.submitted} submitted, {w.accepted} accepted
      {reviewed > 0 && <> (first pass {formatPercent(w.first_pass_accepted / Math.max(1, reviewed))})</>}
      {w.in_review > 0 && <>, {w.in_review} in review</>}
      {w.returned > 0 && (
        <>
          , <a {...linkProps("/returned")}>{w.returned} returned</a>
        </>
      )}
      {w.rejected > 0 && <>, {w.rejected} rejected</>}
    </p>
  );
}

/** The pool asks for a trial and the caller has not passed it (per the server's reasons). */
function needsTrial(p: PoolListItem): boolean {
  const trial = (p.config.workforce as { trial?: { required?: boolean } } | undefined)?.trial;
  return !!trial?.required && p.reasons.some((r) => /trial/i.test(r)) && p.state === "open";
}

export function Home() {
  const { me } = useSession();
  const annotator = hasRole(me, "annotator");
  useEffect(() => {
    if (annotator) return;
    if (hasRole(me, "requester")) navigate("/projects", true);
    else if (hasRole(me, "reviewer")) navigate("/review", true);
  }, [annotator]);
  const pools = useLoad(() => Api.pools(), []);
  if (!annotator) return <Loading />;
  if (pools.error && !pools.data) return <ErrorBox error={pools.error} onRetry={pools.reload} />;
  if (!pools.data) return <Loading what="Loading pools" />;
  const open = pools.data.pools.filter((p) => p.can_claim);
  const closed = pools.data.pools.filter((p) => !p.can_claim && p.state !== "draft");
  const s = me.standing;
  return (
    <section>
      <div class="row between">
        <h1>Work</h1>
        <p class="muted" aria-label="Your standing">
          {s.accepted} accepted · {s.in_review} in review · {s.returned} returned · {s.rejected} rejected
        </p>
      </div>
      <ErrorBox error={pools.error} onRetry={pools.reload} />
      {open.length === 0 && <p>No pool has work for you right now. New pools appear here when they open.</p>}
      <div class="cards">
        {open.map((p) => (
          <article class="card" key={p.id} aria-label={p.name}>
            <div class="row between">
              <h2>{p.name}</h2>
              <span class="badge">{TASK_TYPE_NAMES[p.task_type] ?? p.task_type}</span>
            </div>
            <p>
              <strong>{formatMoney(p.price)}</strong> per accepted task
              {p.hourly_estimate ? (
                <>
                  {" "}
                  · about <strong>{formatMoney(p.hourly_estimate)}</strong> per hour
                </>
              ) : (
                <span class="muted"> · no hourly estimate yet</span>
              )}
            </p>
            <Standing pool={p} />
            <button type="button" class="primary" onClick={() => navigate(`/work/${p.id}`)} aria-label={`${p.active_claim_id ? "Continue" : "Start working"}: ${p.name}`}>
              {p.active_claim_id ? "Continue" : "Start working"}
            </button>
          </article>
        ))}
      </div>
      {closed.length > 0 && (
        <>
          <h2>Pools you cannot enter now</h2>
          <ul aria-label="Pools you cannot enter">
            {closed.map((p) => (
              <li key={p.id}>
                <strong>{p.name}</strong> ({formatMoney(p.price)} per task): {p.reasons.join("; ") || "not available"}
                {needsTrial(p) && (
                  <>
                    {" "}
                    <button type="button" onClick={() => navigate(`/trial/${p.id}`)} aria-label={`Take the trial: ${p.name}`}>
                      Take the trial
                    </button>
                  </>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
