// /projects/:id/new-pool: the form for a new pool, with the fields of its task
// type; server errors appear next to the field they name and the form stays filled.
import { useState } from "preact/hooks";
import { Api, type ApiError, type TaskType } from "../api";
import { ErrorBox, Field, Loading } from "../components";
import { TASK_TYPE_NAMES } from "../lib/format";
import { asApiError, useLoad } from "../lib/hooks";
import {
  buildPoolRequest,
  defaultPoolForm,
  formFieldOf,
  serverMessage,
  TASK_TYPES,
  usesLabels,
  usesRationale,
  type PoolErrors,
  type PoolField,
  type PoolFormState,
} from "../lib/poolform";
import { linkProps, navigate } from "../lib/router";
import "./requester.css";

export function PoolCreate({ projectId }: { projectId: number }) {
  const project = useLoad(() => Api.project(projectId), [projectId]);
  const [f, setF] = useState<PoolFormState>(defaultPoolForm());
  const [errors, setErrors] = useState<PoolErrors>({});
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const currency = project.data?.budget.remaining.currency ?? "CNY";

  const set = <K extends keyof PoolFormState>(key: K, value: PoolFormState[K]) => setF((old) => ({ ...old, [key]: value }));
  const text = (key: keyof PoolFormState) => (e: Event) => set(key, (e.currentTarget as HTMLInputElement).value as never);
  const err = (field: PoolField) => errors[field] ?? null;

  const submit = async (e: Event) => {
    e.preventDefault();
    setServerError(null);
    const r = buildPoolRequest(f, currency);
    setErrors(r.errors);
    if (!r.body) {
      const first = Object.keys(r.errors)[0];
      (document.querySelector(`[data-field="${first}"]`) as HTMLElement | null)?.focus();
      return;
    }
    setBusy(true);
    try {
      const pool = await Api.createPool(projectId, r.body);
      navigate(`/pools/${pool.id}`);
    } catch (ex) {
      const apiErr = asApiError(ex);
      const field = formFieldOf(apiErr.field);
      if (field) {
        setErrors({ [field]: serverMessage(apiErr.field!, apiErr.message, f) });
        (document.querySelector(`[data-field="${field}"]`) as HTMLElement | null)?.focus();
      } else setServerError(apiErr);
    } finally {
      setBusy(false);
    }
  };

  const t = f.taskType;
  return (
    <section>
      <p>
        <a {...linkProps(`/projects/${projectId}`)}>← {project.data?.name ?? "Project"}</a>
      </p>
      <h1>New pool</h1>
      <ErrorBox error={project.error} onRetry={project.reload} />
      {project.loading && !project.data && <Loading what="Loading the project" />}
      <form class="pool-form card" onSubmit={submit} noValidate aria-label="New pool">
        <div class="cols">
          <Field label="Pool name" error={err("name")}>
            <input data-field="name" value={f.name} onInput={text("name")} maxLength={200} />
          </Field>
          <Field label="Task type" error={err("task_type")}>
            <select data-field="task_type" value={t} onChange={(e) => set("taskType", e.currentTarget.value as TaskType)}>
              {TASK_TYPES.map((tt) => (
                <option key={tt} value={tt}>
                  {TASK_TYPE_NAMES[tt]} ({tt})
                </option>
              ))}
            </select>
          </Field>
        </div>

        {(usesLabels(t) || t === "rating" || usesRationale(t)) && (
          <fieldset>
            <legend>{TASK_TYPE_NAMES[t]} settings</legend>
            {usesLabels(t) && (
              <Field label="Labels" hint="One per line, or separated by commas." error={err("config.labels")}>
                <textarea data-field="config.labels" rows={4} value={f.labels} onInput={text("labels")} />
              </Field>
            )}
            {t === "rating" && (
              <>
                <Field label="Criteria" hint="One per line, or separated by commas." error={err("config.criteria")}>
                  <textarea data-field="config.criteria" rows={3} value={f.criteria} onInput={text("criteria")} />
                </Field>
                <div class="cols">
                  <Field label="Scale minimum" error={err("config.scale")}>
                    <input data-field="config.scale" inputMode="numeric" value={f.scaleMin} onInput={text("scaleMin")} />
                  </Field>
                  <Field label="Scale maximum">
                    <input inputMode="numeric" value={f.scaleMax} onInput={text("scaleMax")} />
                  </Field>
                </div>
              </>
            )}
            {usesRationale(t) && (
              <label class="field check">
                <input
                  type="checkbox"
                  data-field="config.rationale_required"
                  checked={f.rationaleRequired}
                  onChange={(e) => set("rationaleRequired", e.currentTarget.checked)}
                />
                <span class="field-label">Rationale required</span>
                {err("config.rationale_required") && (
                  <span class="field-error" role="alert">
                    {err("config.rationale_required")}
                  </span>
                )}
              </label>
            )}
          </fieldset>
        )}

        <div class="cols">
          <Field label={`Price per task (${currency})`} hint="Paid for each accepted submission." error={err("price")}>
            <input data-field="price" inputMode="decimal" placeholder="0.30" value={f.price} onInput={text("price")} />
          </Field>
          <Field label="Overlap" hint="Annotators per task." error={err("overlap")}>
            <input data-field="overlap" type="number" min={1} max={100} value={f.overlap} onInput={text("overlap")} />
          </Field>
          <Field label="Lease (minutes)" hint="How long a claim lasts." error={err("lease_seconds")}>
            <input data-field="lease_seconds" type="number" min={1} value={f.leaseMinutes} onInput={text("leaseMinutes")} />
          </Field>
          <Field label="Max rounds" hint="Review rounds before revise becomes reject." error={err("max_rounds")}>
            <input data-field="max_rounds" type="number" min={1} max={10} value={f.maxRounds} onInput={text("maxRounds")} />
          </Field>
          <Field label="Opens at (optional)" hint="Your local time. Opening before then schedules the pool." error={err("opens_at")}>
            <input data-field="opens_at" type="datetime-local" value={f.opensAt} onInput={text("opensAt")} />
          </Field>
        </div>
        <details class="workforce" open={!!err("config.workforce")}>
          <summary>Who may work here, gold checks and fairness</summary>
          <div class="cols">
            <Field label="Domain" hint="e.g. medicine; standing is kept per domain.">
              <input value={f.domain} onInput={text("domain")} />
            </Field>
            <Field label="Required skill" hint="Granted by a reviewer from the annotator's background.">
              <input value={f.skill} onInput={text("skill")} placeholder="none" />
            </Field>
            <Field label="Lowest tier">
              <select value={f.tierMin} onChange={(e) => set("tierMin", e.currentTarget.value)}>
                <option value="newcomer">anyone (newcomer)</option>
                <option value="contributor">contributor</option>
                <option value="quality_contributor">quality contributor</option>
                <option value="reviewer_eligible">reviewer-eligible</option>
              </select>
            </Field>
            <Field label="Gold checks (% of tasks)" hint="Known-answer tasks mixed into the work.">
              <input type="number" min={0} max={50} value={f.goldPercent} onInput={text("goldPercent")} placeholder="0" />
            </Field>
            <Field label="Daily cap (tasks)">
              <input type="number" min={0} value={f.dailyCap} onInput={text("dailyCap")} placeholder="none" />
            </Field>
            <Field label="Suggest a break after (minutes)">
              <input type="number" min={0} value={f.breakAfterMinutes} onInput={text("breakAfterMinutes")} placeholder="never" />
            </Field>
            <Field label={`Hourly floor (${currency})`} hint="Top-up when accepted work pays less per active hour.">
              <input inputMode="decimal" value={f.hourlyFloor} onInput={text("hourlyFloor")} placeholder="none" />
            </Field>
            <Field label="Dynamic overlap: at most" hint="Annotators per task until the answer is confident.">
              <input type="number" min={1} max={100} value={f.dynamicMax} onInput={text("dynamicMax")} placeholder="fixed overlap" />
            </Field>
            <Field label="… until confidence (%)">
              <input type="number" min={50} max={100} value={f.dynamicConfidencePercent} onInput={text("dynamicConfidencePercent")} />
            </Field>
          </div>
          <label class="scale-step">
            <input type="checkbox" checked={f.trialRequired} onChange={(e) => set("trialRequired", e.currentTarget.checked)} />
            Require a trial
          </label>
          {f.trialRequired && (
            <div class="cols">
              <Field label="Trial pass mark (%)">
                <input type="number" min={0} max={100} value={f.trialPassPercent} onInput={text("trialPassPercent")} />
              </Field>
              <Field label="Trial tasks">
                <input type="number" min={1} max={200} value={f.trialTasks} onInput={text("trialTasks")} />
              </Field>
            </div>
          )}
          {err("config.workforce") && (
            <p class="field-error" role="alert" data-field="config.workforce" tabIndex={-1}>
              {err("config.workforce")}
            </p>
          )}
        </details>
        <ErrorBox error={serverError} />
        <div class="row">
          <button type="submit" class="primary" disabled={busy || !project.data}>
            {busy ? "Creating…" : "Create pool"}
          </button>
          <a {...linkProps(`/projects/${projectId}`)}>Cancel</a>
        </div>
        <p class="hint">The pool starts as a draft: add tasks on its dashboard, then open it.</p>
      </form>
    </section>
  );
}
