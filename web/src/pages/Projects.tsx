// Requester console: the caller's projects with a "New project" form, and one
// project's page (guidelines, budget, pools with their state and price).
import { useState } from "preact/hooks";
import { Api, type ApiError, type Pool } from "../api";
import { ErrorBox, Field, fieldError, Loading, Markdown } from "../components";
import { formatDate, formatMoney, parseMoney, TASK_TYPE_NAMES } from "../lib/format";
import { asApiError, useLoad } from "../lib/hooks";
import { linkProps, navigate } from "../lib/router";
import "./requester.css";

export function StateBadge({ state }: { state: Pool["state"] }) {
  return <span class={`badge state-badge ${state}`}>{state}</span>;
}

function NewProjectForm() {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [guidelines, setGuidelines] = useState("");
  const [budget, setBudget] = useState("");
  const [currency, setCurrency] = useState("CNY");
  const [local, setLocal] = useState<Record<string, string>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    const cur = currency.trim().toUpperCase();
    if (!name.trim()) errs.name = "Give the project a name.";
    if (!/^[A-Z]{3}$/.test(cur)) errs.currency = "A three-letter currency code such as CNY.";
    const minor = budget.trim() === "" ? 0 : parseMoney(budget, cur);
    if (minor === null) errs.budget = `Not an amount in ${cur}: write it like 500 or 500.00.`;
    setLocal(errs);
    setError(null);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      const body: Record<string, unknown> = { name: name.trim(), description, guidelines };
      if (minor) body.budget = { amount_minor: minor, currency: cur };
      const p = await Api.createProject(body);
      navigate(`/projects/${p.id}`);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const unplaced = error && !fieldError(error, "name", "description", "guidelines", "budget") ? error : null;
  return (
    <form class="card" onSubmit={submit} aria-labelledby="new-project-title" noValidate>
      <h2 id="new-project-title">New project</h2>
      <Field label="Project name" error={local.name ?? fieldError(error, "name")}>
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} maxLength={200} />
      </Field>
      <Field label="Description" error={fieldError(error, "description")}>
        <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </Field>
      <Field label="Guidelines (Markdown)" hint="Shown to annotators and reviewers beside every task." error={fieldError(error, "guidelines")}>
        <textarea rows={6} value={guidelines} onInput={(e) => setGuidelines(e.currentTarget.value)} />
      </Field>
      <div class="row">
        <Field label="Budget" hint="Moved from your funding account to the project." error={local.budget ?? fieldError(error, "budget")}>
          <input inputMode="decimal" placeholder="0.00" value={budget} onInput={(e) => setBudget(e.currentTarget.value)} />
        </Field>
        <Field label="Currency" error={local.currency}>
          <input value={currency} size={4} maxLength={3} onInput={(e) => setCurrency(e.currentTarget.value)} />
        </Field>
      </div>
      <ErrorBox error={unplaced} />
      <button type="submit" class="primary" disabled={busy}>
        {busy ? "Creating…" : "Create project"}
      </button>
    </form>
  );
}

/** /projects: the caller's projects and the form for a new one. */
export function Projects() {
  const list = useLoad(() => Api.projects(), []);
  return (
    <section>
      <h1>Projects</h1>
      <div class="req-grid">
        <div class="card">
          <h2>Your projects</h2>
          <ErrorBox error={list.error} onRetry={list.reload} />
          {list.loading && !list.data && <Loading what="Loading projects" />}
          {list.data && list.data.projects.length === 0 && <p class="muted">No projects yet. Create one with the form.</p>}
          {list.data && list.data.projects.length > 0 && (
            <ul class="req-list" aria-label="Projects">
              {list.data.projects.map((p) => (
                <li key={p.id}>
                  <a class="title" {...linkProps(`/projects/${p.id}`)}>
                    {p.name}
                  </a>
                  {p.description && <div class="muted">{p.description}</div>}
                  <div class="hint">Created {formatDate(p.created_at)}</div>
                </li>
              ))}
            </ul>
          )}
        </div>
        <NewProjectForm />
      </div>
    </section>
  );
}

/** /projects/:id: the project's pools, budget and guidelines. */
export function ProjectPage({ projectId }: { projectId: number }) {
  const project = useLoad(() => Api.project(projectId), [projectId]);
  const p = project.data;
  if (!p) {
    return (
      <section>
        <p>
          <a {...linkProps("/projects")}>← Projects</a>
        </p>
        <ErrorBox error={project.error} onRetry={project.reload} />
        {project.loading && <Loading what="Loading the project" />}
      </section>
    );
  }
  return (
    <section>
      <p>
        <a {...linkProps("/projects")}>← Projects</a>
      </p>
      <div class="row between">
        <h1>{p.name}</h1>
        <a class="button-link primary" {...linkProps(`/projects/${p.id}/new-pool`)}>
          New pool
        </a>
      </div>
      {p.description && <p class="muted">{p.description}</p>}
      <ErrorBox error={project.error} onRetry={project.reload} />
      <div class="stats" aria-label="Budget">
        <div class="stat">
          <div class="value">{formatMoney(p.budget.remaining)}</div>
          <div class="label">Budget remaining</div>
        </div>
        <div class="stat">
          <div class="value">{p.pools.length}</div>
          <div class="label">Pools</div>
        </div>
      </div>
      <div class="req-grid wide-left dash-section">
        <div class="card">
          <h2>Pools</h2>
          {p.pools.length === 0 ? (
            <p class="muted">
              No pools yet. <a {...linkProps(`/projects/${p.id}/new-pool`)}>Create the first pool</a>.
            </p>
          ) : (
            <table class="pools-table" aria-label="Pools">
              <thead>
                <tr>
                  <th>Pool</th>
                  <th>Task type</th>
                  <th>State</th>
                  <th class="num">Price</th>
                  <th class="num">Overlap</th>
                </tr>
              </thead>
              <tbody>
                {p.pools.map((pool) => (
                  <tr key={pool.id}>
                    <td>
                      <a {...linkProps(`/pools/${pool.id}`)}>{pool.name}</a>
                    </td>
                    <td>{TASK_TYPE_NAMES[pool.task_type] ?? pool.task_type}</td>
                    <td>
                      <StateBadge state={pool.state} />
                      {pool.state === "scheduled" && pool.opens_at && <div class="hint">opens {formatDate(pool.opens_at)}</div>}
                    </td>
                    <td class="num">{formatMoney(pool.price)}</td>
                    <td class="num">{pool.overlap}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div class="card">
          <h2>Guidelines</h2>
          <div class="guidelines-box">
            {p.guidelines.trim() ? <Markdown text={p.guidelines} /> : <p class="muted">This project has no guidelines yet.</p>}
          </div>
        </div>
      </div>
    </section>
  );
}
