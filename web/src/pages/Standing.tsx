// The annotator's standing: every factor with its value, prior and weight,
// the tier thresholds, what would move it, and any limits on allocation —
// the same figures the server allocates work by. Also the signed work record.
import { useState } from "preact/hooks";
import { Api, ApiError, type ReviewerInvitation } from "../api";
import { useSession } from "../session";
import { ErrorBox, Loading } from "../components";
import { formatDate, formatPercent } from "../lib/format";
import { asApiError, useLoad } from "../lib/hooks";

type Json = Record<string, unknown>;
const num = (v: unknown) => (typeof v === "number" ? v : null);
const str = (v: unknown) => (typeof v === "string" ? v : "");
const arr = (v: unknown) => (Array.isArray(v) ? (v as unknown[]) : []);

const FACTOR_NAMES: Record<string, string> = {
  gold_accuracy: "Gold accuracy",
  first_pass_acceptance: "First-pass acceptance",
  review_rounds: "Review rounds (fewer is better)",
  rejection_rate: "Rejection rate (lower is better)",
  agreement: "Agreement with the inferred answers",
  volume: "Volume",
};
const TIER_NAMES: Record<string, string> = {
  newcomer: "Newcomer",
  contributor: "Contributor",
  quality_contributor: "Quality contributor",
  reviewer_eligible: "Reviewer-eligible",
};

export function tierName(t: unknown): string {
  return TIER_NAMES[str(t)] ?? str(t);
}

function StandingBlock({ s, title }: { s: Json; title: string }) {
  const factors = arr(s.factors) as Json[];
  const hints = arr(s.hints).map(str);
  return (
    <section class="card" aria-label={title}>
      <div class="row between">
        <h2>{title}</h2>
        <span class="badge ok">{tierName(s.tier)}</span>
      </div>
      <p>
        Score <strong>{num(s.score)?.toFixed(3) ?? "—"}</strong>
        {num(s.reviewed) !== null && <> · {s.reviewed as number} reviewed tasks</>}
        {num(s.gold_checks) !== null && <> · {s.gold_checks as number} gold checks</>}
        {num(s.gold_checks) !== null && (s.gold_checks as number) > 0 && num(s.gold_accuracy_upper) !== null && (
          <span title="The gold rule holds you back only when even this upper bound is below the tier's minimum.">
            {" "}
            (gold accuracy at most {(num(s.gold_accuracy_upper) as number).toFixed(2)} at 90% confidence)
          </span>
        )}
      </p>
      {factors.length > 0 && (
        <table aria-label={`${title}: factors`}>
          <thead>
            <tr>
              <th>Factor</th>
              <th class="num">Observed</th>
              <th class="num">Smoothed</th>
              <th class="num">Prior</th>
              <th class="num">Weight</th>
              <th class="num">Adds to score</th>
            </tr>
          </thead>
          <tbody>
            {factors.map((f) => {
              const name = str(f.name);
              const rate = name !== "review_rounds" && name !== "volume";
              const fmt = (v: unknown) => (num(v) === null ? "—" : rate ? formatPercent(v as number) : (v as number).toFixed(2));
              if (name === "volume") {
                return (
                  <tr key={name}>
                    <td>{FACTOR_NAMES[name]}</td>
                    <td class="num">{num(f.count) ?? 0} tasks</td>
                    <td class="num">{num(f.value)?.toFixed(2)}</td>
                    <td class="num">{num(f.prior)?.toFixed(2)}</td>
                    <td class="num">{num(f.weight)?.toFixed(2)}</td>
                    <td class="num">{num(f.contribution)?.toFixed(3)}</td>
                  </tr>
                );
              }
              return (
                <tr key={name}>
                  <td>{FACTOR_NAMES[name] ?? name}</td>
                  <td class="num">
                    {num(f.count) ? `${+(f.successes as number).toFixed(2)} / ${f.count}` : <span class="muted">no data</span>}
                  </td>
                  <td class="num">{fmt(f.smoothed ?? f.value)}</td>
                  <td class="num">{fmt(f.prior)}</td>
                  <td class="num">{num(f.weight)?.toFixed(2)}</td>
                  <td class="num">{num(f.contribution)?.toFixed(3)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {hints.length > 0 && (
        <>
          <h3>What would move it</h3>
          <ul>
            {hints.map((h) => (
              <li key={h}>{h}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function RecordButton() {
  const [error, setError] = useState<ApiError | null>(null);
  const download = async () => {
    try {
      const blob = await Api.myRecord();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "tessera-work-record.json";
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <div>
      <button type="button" onClick={download}>
        Download my signed work record
      </button>
      <p class="hint">
        A JSON record of your volumes, acceptance, gold accuracy and tier history, signed by this server (Ed25519). Anyone can check it
        with <code>tessera verify-record</code> and the key at <code>/api/v1/record-key</code>.
      </p>
      <ErrorBox error={error} />
    </div>
  );
}

function Invitations() {
  const { refresh } = useSession();
  const list = useLoad(() => Api.myInvitations(), []);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const pending = (list.data?.invitations ?? []).filter((i: ReviewerInvitation) => i.state === "pending");
  if (list.error && !list.data) return <ErrorBox error={list.error} onRetry={list.reload} />;
  if (!pending.length) return null;
  const decide = async (id: number, accept: boolean) => {
    setBusy(true);
    setError(null);
    try {
      await Api.decideInvitation(id, accept);
      list.reload();
      // Accepting adds the reviewer role: the menu shows the review desk.
      if (accept) await refresh();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card notice" aria-label="Invitations to review">
      <h2>You are invited to review</h2>
      {pending.map((i) => (
        <div key={i.id} class="stack">
          <p>
            An admin invited you to review on {formatDate(i.created_at)}. Accepting gives you the reviewer role: you can then review other
            annotators' work in the review desk.
          </p>
          {i.note && <blockquote>{i.note}</blockquote>}
          <div class="row">
            <button type="button" disabled={busy} onClick={() => decide(i.id, true)} aria-label="Accept invitation">
              Accept
            </button>
            <button type="button" disabled={busy} onClick={() => decide(i.id, false)} aria-label="Decline invitation">
              Decline
            </button>
          </div>
        </div>
      ))}
      <ErrorBox error={error} />
    </section>
  );
}

export function Standing() {
  const st = useLoad(() => Api.myStanding(), []);
  if (st.error && !st.data) return <ErrorBox error={st.error} onRetry={st.reload} />;
  if (!st.data) return <Loading what="Loading your standing" />;
  const s = st.data as Json;
  const overall = (s.overall ?? s) as Json;
  const domains = arr(s.domains) as Json[];
  const limits = arr(s.limits ?? overall.limits).map((l) => (typeof l === "string" ? l : str((l as Json).reason)));
  const thresholds = arr(s.thresholds ?? overall.thresholds) as Json[];
  const history = arr(s.history ?? s.tier_history) as Json[];
  return (
    <section class="stack">
      <h1>Your standing</h1>
      <p class="muted">
        Work is offered by these figures. Each rate starts at a prior and moves with your work, recent work counting more; nothing here is
        hidden from you.
      </p>
      {limits.length > 0 && (
        <div class="notice" role="status" aria-label="Limits on your work">
          {limits.map((l) => (
            <p key={l}>{l}</p>
          ))}
        </div>
      )}
      <Invitations />
      <StandingBlock s={overall} title="Overall" />
      {domains.map((d) => (
        <StandingBlock key={str(d.domain)} s={d} title={`Domain: ${str(d.domain) || "general"}`} />
      ))}
      {thresholds.length > 0 && (
        <section class="card" aria-label="Tiers">
          <h2>Tiers</h2>
          <table>
            <thead>
              <tr>
                <th>Tier</th>
                <th class="num">Score at least</th>
                <th class="num">Reviewed tasks at least</th>
                <th class="num">Gold accuracy at least</th>
              </tr>
            </thead>
            <tbody>
              {thresholds.map((t) => (
                <tr key={str(t.tier)}>
                  <td>{tierName(t.tier)}</td>
                  <td class="num">{num(t.min_score) ?? "—"}</td>
                  <td class="num">{num(t.min_reviewed) ?? "—"}</td>
                  <td class="num">{num(t.min_gold_accuracy) === null ? "—" : formatPercent(t.min_gold_accuracy as number)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {history.length > 0 && (
        <section class="card" aria-label="Tier history">
          <h2>Tier history</h2>
          <ul>
            {history.map((h, i) => (
              <li key={i}>
                {formatDate(str(h.at))}: {tierName(h.tier)} {str(h.domain) && `in ${str(h.domain)}`}
              </li>
            ))}
          </ul>
        </section>
      )}
      <RecordButton />
    </section>
  );
}
