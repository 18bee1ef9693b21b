// The annotator's background (domains, profession, education, evidence) and
// the skills reviewers granted from it; and, for reviewers, the profiles
// waiting for verification with the skill grant form.
import { useEffect, useState } from "preact/hooks";
import { Api, ApiError } from "../api";
import { ErrorBox, Field, Loading } from "../components";
import { formatDate } from "../lib/format";
import { asApiError, useLoad } from "../lib/hooks";

type Json = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" ? v : "");
const arr = (v: unknown) => (Array.isArray(v) ? (v as unknown[]) : []);

export const DOMAINS = ["medicine", "law", "finance", "cs", "math", "science", "languages", "other"];

function Skills({ skills }: { skills: Json[] }) {
  const live = skills.filter((s) => !s.revoked_at);
  if (!live.length) return <p class="muted">No skills granted yet.</p>;
  return (
    <ul aria-label="Granted skills">
      {live.map((s) => (
        <li key={str(s.skill)}>
          <strong>{str(s.skill)}</strong> — {str(s.reason)} <span class="muted">({formatDate(str(s.granted_at))})</span>
        </li>
      ))}
    </ul>
  );
}

export function Profile() {
  const profile = useLoad(() => Api.myProfile(), []);
  const [domains, setDomains] = useState<string[]>([]);
  const [profession, setProfession] = useState("");
  const [education, setEducation] = useState("");
  const [evidence, setEvidence] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    const p = profile.data as Json | null;
    if (!p) return;
    setDomains(arr(p.domains).map(str));
    setProfession(str(p.profession));
    setEducation(str(p.education));
    setEvidence(str(p.evidence));
  }, [profile.data]);
  if (profile.error && !profile.data && profile.error.status !== 404) return <ErrorBox error={profile.error} onRetry={profile.reload} />;
  if (profile.loading && !profile.data) return <Loading what="Loading your profile" />;
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      await Api.saveProfile({ domains, profession, education, evidence });
      setError(null);
      setSaved(true);
      profile.reload();
    } catch (ex) {
      setError(asApiError(ex));
      setSaved(false);
    }
  };
  const p = (profile.data ?? {}) as Json;
  const fe = (f: string) => (error?.field === f || error?.field?.startsWith(`${f}[`) ? error.message : null);
  return (
    <section class="stack">
      <h1>Your background</h1>
      <p class="muted">
        Pools in a specialist domain may ask for a skill. A reviewer grants it from what you describe here; your demonstrated work (trials)
        counts, and no degree is required by Tessera itself.
      </p>
      <form class="card" onSubmit={save} aria-label="Background">
        <fieldset>
          <legend>Domains you know well</legend>
          <div class="row">
            {DOMAINS.map((d) => (
              <label key={d} class="scale-step">
                <input type="checkbox" checked={domains.includes(d)} onChange={(e) => setDomains(e.currentTarget.checked ? [...domains, d] : domains.filter((x) => x !== d))} />
                {d}
              </label>
            ))}
          </div>
          {fe("domains") && <span class="field-error">{fe("domains")}</span>}
        </fieldset>
        <Field label="Profession" error={fe("profession")}>
          <input value={profession} onInput={(e) => setProfession(e.currentTarget.value)} />
        </Field>
        <Field label="Education" error={fe("education")}>
          <input value={education} onInput={(e) => setEducation(e.currentTarget.value)} />
        </Field>
        <Field label="Evidence" hint="Licences, publications, work you have done: anything a reviewer can check." error={fe("evidence")}>
          <textarea value={evidence} onInput={(e) => setEvidence(e.currentTarget.value)} rows={4} />
        </Field>
        {error && !["domains", "profession", "education", "evidence"].some((f) => fe(f)) && <ErrorBox error={error} />}
        <div class="row">
          <button type="submit" class="primary">
            Save
          </button>
          {saved && <span role="status">Saved.</span>}
        </div>
      </form>
      <section class="card" aria-label="Skills">
        <h2>Skills</h2>
        <Skills skills={arr(p.skills) as Json[]} />
      </section>
    </section>
  );
}

/** Reviewers: profiles waiting for verification, and granting a skill with a reason. */
function GrantForm({ userId, domains, onDone }: { userId: number; domains: string[]; onDone: () => void }) {
  const [skill, setSkill] = useState(domains[0] ?? DOMAINS[0]);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const grant = async (e: Event) => {
    e.preventDefault();
    try {
      await Api.grantSkill(userId, skill, reason);
      onDone();
    } catch (ex) {
      setError(asApiError(ex));
    }
  };
  return (
    <form onSubmit={grant} class="row" aria-label={`Grant a skill to user ${userId}`}>
      <select aria-label="Skill" value={skill} onChange={(e) => setSkill(e.currentTarget.value)}>
        {DOMAINS.map((d) => (
          <option key={d}>{d}</option>
        ))}
      </select>
      <input aria-label="Reason" placeholder="Why (recorded)" value={reason} onInput={(e) => setReason(e.currentTarget.value)} required />
      <button type="submit">Grant skill</button>
      <ErrorBox error={error} />
    </form>
  );
}

export function Profiles() {
  const list = useLoad(() => Api.unverifiedProfiles(), []);
  if (list.error && !list.data) return <ErrorBox error={list.error} onRetry={list.reload} />;
  if (!list.data) return <Loading what="Loading profiles" />;
  const profiles = arr((list.data as Json).profiles) as Json[];
  return (
    <section class="stack">
      <h1>Profiles to verify</h1>
      {profiles.length === 0 && <p class="muted">No profile is waiting.</p>}
      {profiles.map((p) => (
        <article class="card" key={String(p.user_id)} aria-label={`Profile of ${str(p.username) || p.user_id}`}>
          <h2>{str(p.username) || `User ${p.user_id}`}</h2>
          <p>
            <strong>Domains:</strong> {arr(p.domains).map(str).join(", ") || "—"} · <strong>Profession:</strong> {str(p.profession) || "—"} ·{" "}
            <strong>Education:</strong> {str(p.education) || "—"}
          </p>
          <p class="prompt">{str(p.evidence) || "No evidence given."}</p>
          <GrantForm userId={Number(p.user_id)} domains={arr(p.domains).map(str)} onDone={list.reload} />
        </article>
      ))}
    </section>
  );
}
