// /pools/:id: a pool's dashboard for its requester — open/close, task upload
// (JSONL, CSV, COCO/Label Studio, images), progress, cost, quality and export.
import { useEffect, useRef, useState } from "preact/hooks";
import { Api, ApiError, type ImportReport, type PoolDetail, type PoolStats, type TaskType } from "../api";
import { Histogram, ThroughputChart } from "../charts";
import { ErrorBox, Field, fieldError, Loading } from "../components";
import { CSV_COLUMNS, csvToTasks } from "../lib/csv";
import { formatDate, formatMoney, formatPercent, TASK_TYPE_NAMES } from "../lib/format";
import { asApiError, useLoad } from "../lib/hooks";
import { EXPORT_MODES, exportFileName, exportFormats, usesLabels } from "../lib/poolform";
import { linkProps } from "../lib/router";
import { StateBadge } from "./Projects";
import { PoolWorkforce } from "./PoolWorkforce";
import "./requester.css";

type Quality = Record<string, unknown> & {
  version?: number;
  created_at?: string;
  method?: string;
  task_type?: string;
  inference?: boolean;
  note?: string;
  counts?: { tasks: number; annotators: number; results: number; skipped: number };
  tasks?: unknown[];
  annotators?: Record<string, unknown>[];
  agreement?: Record<string, unknown> | null;
};

const REFRESH_MS = 10_000;

/** Reloads every 10 s while the page is visible, and at once when it becomes visible again. */
function usePolling(reloads: (() => void)[]) {
  const ref = useRef(reloads);
  ref.current = reloads;
  useEffect(() => {
    const all = () => ref.current.forEach((r) => r());
    const timer = setInterval(() => document.visibilityState === "visible" && all(), REFRESH_MS);
    const vis = () => document.visibilityState === "visible" && all();
    document.addEventListener("visibilitychange", vis);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", vis);
    };
  }, []);
}

function Stat({ label, value, tone, title }: { label: string; value: string | number; tone?: "ok" | "bad" | "warn"; title?: string }) {
  return (
    <div class={`stat ${tone ?? ""}`} title={title}>
      <div class="value">{value}</div>
      <div class="label">{label}</div>
    </div>
  );
}

export function PoolDashboard({ poolId }: { poolId: number }) {
  const pool = useLoad(() => Api.pool(poolId), [poolId]);
  const stats = useLoad(() => Api.poolStats(poolId), [poolId]);
  const projectId = pool.data?.project_id;
  const project = useLoad(() => (projectId ? Api.project(projectId) : Promise.resolve(null)), [projectId]);
  // {snapshot: null} once loaded when the pool has no snapshot yet (404 or empty).
  const quality = useLoad(async (): Promise<{ snapshot: Quality | null }> => {
    try {
      const q = (await Api.poolQuality(poolId)) as Quality | null;
      return { snapshot: q && Object.keys(q).length ? q : null };
    } catch (e) {
      if (asApiError(e).status === 404) return { snapshot: null };
      throw e;
    }
  }, [poolId]);
  usePolling([pool.reload, stats.reload, quality.reload, project.reload]);

  const p = pool.data;
  if (!p) {
    return (
      <section>
        <p>
          <a {...linkProps("/projects")}>← Projects</a>
        </p>
        <ErrorBox error={pool.error} onRetry={pool.reload} />
        {pool.loading && <Loading what="Loading the pool" />}
      </section>
    );
  }
  const refreshAll = () => {
    pool.reload();
    stats.reload();
    quality.reload();
    project.reload();
  };
  return (
    <section aria-labelledby="pool-title">
      <p>
        <a {...linkProps(`/projects/${p.project_id}`)}>← {project.data?.name ?? "Project"}</a>
      </p>
      <div class="dash-head">
        <h1 id="pool-title">{p.name}</h1>
        <StateBadge state={p.state} />
        <span class="muted">
          {TASK_TYPE_NAMES[p.task_type] ?? p.task_type} · {formatMoney(p.price)} per task · overlap {p.overlap} · lease{" "}
          {Math.round(p.lease_seconds / 60)} min · max {p.max_rounds} rounds
          {p.opens_at && ` · opens ${formatDate(p.opens_at)}`}
        </span>
      </div>
      <PoolControls pool={p} onChange={refreshAll} />
      <ErrorBox error={pool.error} onRetry={pool.reload} />

      <Progress stats={stats.data} error={stats.error} reload={stats.reload} budgetFallback={project.data?.budget.remaining} />

      {/* Charts, then upload/export/quality; a draft (being filled) shows the upload first. CSS order keeps the state. */}
      <div class="dash-body">
        <div class="req-grid dash-section">
          <div class="card">
            <h2>Throughput</h2>
            <ThroughputChart data={stats.data?.throughput} />
          </div>
          <div class="card">
            <h2>Effective hourly earnings</h2>
            <Histogram values={stats.data?.hourly_earnings} unit={`${p.price.currency}/h`} what="Effective hourly earnings of annotators" />
          </div>
        </div>
        <div class="req-grid dash-section" style={{ order: p.state === "draft" ? -1 : 0 }}>
          <TaskUpload pool={p} onImported={refreshAll} />
          <div class="stack">
            <ExportBox pool={p} />
            <QualityBox
              poolId={poolId}
              quality={quality.data?.snapshot ?? null}
              error={quality.error}
              loading={!quality.data}
              reload={quality.reload}
            />
          </div>
        </div>
      </div>
      <PoolWorkforce pool={p} />
    </section>
  );
}

function PoolControls({ pool, onChange }: { pool: PoolDetail; onChange: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const future = pool.opens_at ? new Date(pool.opens_at).getTime() > Date.now() : false;
  const act = async (what: "open" | "close") => {
    if (what === "close" && !confirm("Close this pool? No new tasks can be claimed or added.")) return;
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const after = what === "open" ? await Api.openPool(pool.id) : await Api.closePool(pool.id);
      if (after.state === "scheduled") setNotice(`Scheduled: the pool opens by itself at ${formatDate(after.opens_at)}.`);
      else if (after.state === "open") setNotice("The pool is open: annotators can claim its tasks now.");
      else setNotice("The pool is closed.");
      onChange();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="dash-actions">
      {(pool.state === "draft" || pool.state === "closed") && (
        <button type="button" class="primary" disabled={busy} onClick={() => void act("open")}>
          {future ? "Schedule pool" : pool.state === "closed" ? "Reopen pool" : "Open pool"}
        </button>
      )}
      {pool.state !== "closed" && pool.state !== "draft" && (
        <button type="button" class="danger" disabled={busy} onClick={() => void act("close")}>
          Close pool
        </button>
      )}
      {pool.state === "draft" && (
        <span class="hint">
          {future
            ? `Draft. Opens at ${formatDate(pool.opens_at)}: releasing it now makes it scheduled until then.`
            : "Draft: visible only to you until you open it."}
        </span>
      )}
      {pool.state === "scheduled" && <span class="hint">Scheduled: opens by itself at {formatDate(pool.opens_at)}.</span>}
      {notice && (
        <span class="notice" role="status">
          {notice}
        </span>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

function Progress({
  stats,
  error,
  reload,
  budgetFallback,
}: {
  stats: PoolStats | null;
  error: ApiError | null;
  reload: () => void;
  budgetFallback?: PoolStats["cost"];
}) {
  if (!stats) {
    return (
      <div class="dash-section">
        <ErrorBox error={error} onRetry={reload} />
        {!error && <Loading what="Loading progress" />}
      </div>
    );
  }
  const remaining = stats.budget_remaining ?? budgetFallback;
  const spentShare = remaining ? stats.cost.amount_minor / Math.max(1, stats.cost.amount_minor + remaining.amount_minor) : null;
  return (
    <div class="dash-section">
      <ErrorBox error={error} onRetry={reload} />
      <div class="dash-stats" role="group" aria-label="Progress">
        <Stat label="Done (accepted)" value={stats.accepted} tone="ok" />
        <Stat label="In review" value={stats.in_review} />
        <Stat label="Returned" value={stats.returned} tone={stats.returned ? "warn" : undefined} />
        <Stat label="Rejected" value={stats.rejected} tone={stats.rejected ? "bad" : undefined} />
        <Stat label="First-pass acceptance" value={formatPercent(stats.first_pass_rate)} />
        <Stat label="Tasks" value={stats.tasks} />
        <Stat label="Open slots" value={stats.open_slots} title="Task slots (tasks × overlap) not yet claimed" />
        <Stat label="Active claims" value={stats.active_claims} />
        <Stat label="Cost so far" value={formatMoney(stats.cost)} />
        <div class="stat">
          <div class="value">{formatMoney(remaining)}</div>
          <div class="label">Project budget remaining</div>
          {spentShare !== null && (
            <div
              class={`meter ${remaining && remaining.amount_minor <= 0 ? "over" : ""}`}
              role="meter"
              aria-label="Share of the budget this pool has spent"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={Math.round(spentShare * 100)}
              title={`This pool has spent ${formatPercent(spentShare)} of (its cost + the remaining budget)`}
            >
              <span style={{ width: `${Math.min(100, spentShare * 100)}%` }} />
            </div>
          )}
        </div>
      </div>
    </div>
  );
}

// ---- Task upload ----

function fileKind(name: string): "jsonl" | "csv" | "json" | null {
  const n = name.toLowerCase();
  if (n.endsWith(".jsonl") || n.endsWith(".ndjson")) return "jsonl";
  if (n.endsWith(".csv")) return "csv";
  if (n.endsWith(".json")) return "json";
  return null;
}

function Report({ report }: { report: ImportReport }) {
  return (
    <div class="upload-report" role="status" aria-label="Import report">
      <dl>
        <dt>Created</dt>
        <dd>{report.created}</dd>
        <dt>Skipped</dt>
        <dd>{report.skipped ?? 0}</dd>
        <dt>Duplicates</dt>
        <dd>{report.duplicates ?? 0}</dd>
        <dt>Drafts</dt>
        <dd>{report.drafts ?? 0}</dd>
        <dt>Gold</dt>
        <dd>{report.gold ?? 0}</dd>
      </dl>
      {report.errors && report.errors.length > 0 && (
        <>
          <div>Left out ({report.errors.length}):</div>
          <ul class="upload-errors">
            {report.errors.map((e, i) => (
              <li key={i}>{e.field ? `${e.message} (${e.field})` : e.message}</li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function TaskUpload({ pool, onImported }: { pool: PoolDetail; onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [jsonFormat, setJsonFormat] = useState<"coco" | "ls">("coco");
  const [imagesDir, setImagesDir] = useState("");
  const [labelsAs, setLabelsAs] = useState<"gold" | "preannotation">("gold");
  const [onlyPoolLabels, setOnlyPoolLabels] = useState(false);
  const [skipInvalid, setSkipInvalid] = useState(false);
  const [dedupe, setDedupe] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | string | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const closed = pool.state === "closed";
  const kind = file ? fileKind(file.name) : null;

  const upload = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setReport(null);
    if (!file) return setError("Choose a file first.");
    if (!kind) return setError(`${file.name}: choose a .jsonl, .csv or .json file.`);
    setBusy(true);
    try {
      let body = await file.text();
      let format: string = kind === "json" ? jsonFormat : "auto";
      if (kind === "csv") {
        try {
          body = csvToTasks(body, pool.task_type as TaskType).jsonl;
          format = "tasks";
        } catch (ex) {
          setError(`${file.name}: ${(ex as Error).message}`);
          return;
        }
      }
      const r = await Api.importTasks(
        pool.id,
        body,
        format,
        kind === "json"
          ? { skip_invalid: skipInvalid, dedupe, images: imagesDir.trim() || undefined, labels_as: labelsAs, only_pool_labels: onlyPoolLabels }
          : { skip_invalid: skipInvalid, dedupe },
      );
      setReport(r);
      setFile(null);
      if (fileInput.current) fileInput.current.value = "";
      onImported();
    } catch (ex) {
      const err = asApiError(ex);
      setError(new ApiError(err.status, err.code, `${file.name}: ${err.message}`, err.field));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="card">
      <h2>Add tasks</h2>
      {closed && <p class="muted">The pool is closed: no tasks can be added.</p>}
      <form onSubmit={upload} aria-label="Upload tasks">
        <Field
          label="Task file"
          hint={`JSONL (Tessera task lines, LLM records, OpenAssistant), CSV with a header row (${CSV_COLUMNS[pool.task_type]}), or COCO / Label Studio JSON.`}
        >
          <input
            ref={fileInput}
            type="file"
            accept=".jsonl,.ndjson,.csv,.json,application/json,text/csv"
            disabled={closed || busy}
            onChange={(e) => {
              setFile(e.currentTarget.files?.[0] ?? null);
              setError(null);
              setReport(null);
            }}
          />
        </Field>
        {kind === "json" && (
          <>
            <div class="row">
              <Field label="JSON format">
                <select value={jsonFormat} onChange={(e) => setJsonFormat(e.currentTarget.value as "coco" | "ls")}>
                  <option value="coco">COCO instances</option>
                  <option value="ls">Label Studio tasks</option>
                </select>
              </Field>
              <Field label="Boxes in the file become">
                <select value={labelsAs} onChange={(e) => setLabelsAs(e.currentTarget.value as "gold" | "preannotation")}>
                  <option value="gold">gold answers</option>
                  <option value="preannotation">model drafts (pre-annotations)</option>
                </select>
              </Field>
            </div>
            <Field
              label="Image folder on the server"
              hint="Relative to the server's media root, e.g. coco128/images/train2017. Needed for COCO, and for Label Studio tasks without image sizes." error={fieldError(error instanceof ApiError ? error : null, "images")}>
              <input value={imagesDir} onInput={(e) => setImagesDir(e.currentTarget.value)} />
            </Field>
            <label class="field check">
              <input type="checkbox" checked={onlyPoolLabels} onChange={(e) => setOnlyPoolLabels(e.currentTarget.checked)} />
              <span class="field-label">Drop boxes whose class is not one of the pool's labels</span>
            </label>
          </>
        )}
        <div class="row">
          <label class="field check">
            <input type="checkbox" checked={skipInvalid} onChange={(e) => setSkipInvalid(e.currentTarget.checked)} />
            <span class="field-label">Skip invalid lines</span>
          </label>
          <label class="field check">
            <input type="checkbox" checked={dedupe} onChange={(e) => setDedupe(e.currentTarget.checked)} />
            <span class="field-label">Leave out duplicates</span>
          </label>
        </div>
        <button type="submit" class="primary" disabled={closed || busy || !file}>
          {busy ? "Uploading…" : "Upload tasks"}
        </button>
        <ErrorBox error={error instanceof ApiError && kind === "json" && fieldError(error, "images") ? null : error} />
        {report && <Report report={report} />}
      </form>
      {usesLabels(pool.task_type) && <ImageUpload pool={pool} onUploaded={onImported} />}
    </div>
  );
}

interface FileError {
  name: string;
  message: string;
}

function ImageUpload({ pool, onUploaded }: { pool: PoolDetail; onUploaded: () => void }) {
  const [total, setTotal] = useState(0);
  const [done, setDone] = useState(0);
  const [failed, setFailed] = useState<FileError[]>([]);
  const [busy, setBusy] = useState(false);
  const closed = pool.state === "closed";

  const run = async (files: File[]) => {
    if (files.length === 0) return;
    setTotal(files.length);
    setDone(0);
    setFailed([]);
    setBusy(true);
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const file = files[next++];
        try {
          await Api.uploadImage(pool.id, file);
          setDone((d) => d + 1);
        } catch (e) {
          const err = asApiError(e);
          setFailed((f) => [...f, { name: file.name, message: err.status === 404 ? "this server cannot take image uploads yet" : err.readable }]);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(3, files.length) }, worker));
    setBusy(false);
    onUploaded();
  };

  return (
    <div class="dash-section">
      <h3>Images</h3>
      <Field label="Image files" hint="Each image becomes one task (JPEG, PNG, WebP or BMP).">
        <input
          type="file"
          multiple
          accept="image/jpeg,image/png,image/webp,image/bmp"
          disabled={closed || busy}
          onChange={(e) => {
            const files = Array.from(e.currentTarget.files ?? []);
            e.currentTarget.value = "";
            void run(files);
          }}
        />
      </Field>
      {total > 0 && (
        <p class="progress-line" role="status">
          {done} / {total} uploaded
          {failed.length > 0 && `, ${failed.length} failed`}
          {busy && "…"}
        </p>
      )}
      {failed.length > 0 && (
        <ul class="upload-errors" aria-label="Images that failed">
          {failed.map((f) => (
            <li key={f.name}>
              {f.name}: {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// ---- Export ----

function ExportBox({ pool }: { pool: PoolDetail }) {
  const formats = exportFormats(pool.task_type);
  const [format, setFormat] = useState(formats[0]);
  const [mode, setMode] = useState<string>("raw");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  const download = async () => {
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const blob = await Api.exportPool(pool.id, format, mode);
      const name = exportFileName(pool.id, format, mode);
      const href = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = href;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(href), 10_000);
      setSaved(`${name} (${blob.size.toLocaleString()} bytes)`);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="card">
      <h2>Export</h2>
      <div class="export-row">
        <Field label="Format" error={fieldError(error, "format")}>
          <select
            value={format}
            onChange={(e) => {
              setFormat(e.currentTarget.value);
              setError(null);
            }}
          >
            {formats.map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Mode" error={fieldError(error, "mode")}>
          <select
            value={mode}
            onChange={(e) => {
              setMode(e.currentTarget.value);
              setError(null);
            }}
          >
            {EXPORT_MODES.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </Field>
        <button type="button" class="primary" disabled={busy} onClick={() => void download()}>
          {busy ? "Exporting…" : "Export"}
        </button>
      </div>
      {error && !fieldError(error, "format", "mode") && <ErrorBox error={error} />}
      {saved && (
        <p class="hint" role="status">
          Downloaded {saved}.
        </p>
      )}
      <p class="hint">raw: every accepted submission; aggregated: one inferred answer per task; gold: your known answers; preannotations: model drafts.</p>
    </div>
  );
}

// ---- Quality ----

const fmtNum = (v: unknown) =>
  typeof v === "number" ? (Number.isInteger(v) ? String(v) : Math.abs(v) <= 1 ? v.toFixed(3) : v.toFixed(2)) : v == null ? "—" : String(v);

const METHOD_NAMES: Record<string, string> = {
  dawid_skene_smoothed: "Dawid-Skene (smoothed)",
  bias_corrected_mean: "bias-corrected mean",
  weighted_boxes: "reliability-weighted box merge",
  none: "counting only",
};

function QualityBox({
  poolId,
  quality,
  error,
  loading,
  reload,
}: {
  poolId: number;
  quality: Quality | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [runError, setRunError] = useState<ApiError | null>(null);
  const run = async () => {
    setBusy(true);
    setRunError(null);
    try {
      await Api.aggregate(poolId);
      reload();
    } catch (e) {
      setRunError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  const ag = quality?.agreement ?? null;
  const agreementRows: [string, string][] = [];
  if (ag) {
    const alpha = ag.krippendorff_alpha;
    if (alpha && typeof alpha === "object") {
      for (const [k, v] of Object.entries(alpha as Record<string, unknown>)) agreementRows.push([`Krippendorff's α (${k})`, fmtNum(v)]);
    } else if ("krippendorff_alpha" in ag) agreementRows.push([`Krippendorff's α${ag.level ? ` (${ag.level})` : ""}`, fmtNum(alpha)]);
    if ("percent_agreement" in ag) agreementRows.push(["Percent agreement", formatPercent(ag.percent_agreement as number | null)]);
    if ("mean_pairwise_iou" in ag) agreementRows.push(["Mean pairwise IoU", fmtNum(ag.mean_pairwise_iou)]);
    if ("mean_matched_iou" in ag) agreementRows.push(["Mean matched IoU", fmtNum(ag.mean_matched_iou)]);
    if ("worker_pairs" in ag) agreementRows.push(["Annotator pairs", fmtNum(ag.worker_pairs)]);
  }
  const annotators = quality?.annotators ?? [];
  const cols = ["answers", "ratings", "submissions", "boxes", "accuracy", "reliability", "agreement_with_inferred", "precision", "recall", "mean_iou"].filter(
    (c) => annotators.some((a) => c in a),
  );
  const hasBias = annotators.some((a) => a.bias && typeof a.bias === "object");
  return (
    <div class="card">
      <div class="row between">
        <h2>Quality</h2>
        <button type="button" disabled={busy} onClick={() => void run()}>
          {busy ? "Running…" : "Run quality engine now"}
        </button>
      </div>
      <ErrorBox error={runError} />
      <ErrorBox error={error} onRetry={reload} />
      {!quality && loading && !error && <Loading what="Loading quality" />}
      {!quality && !loading && !error && <p class="muted">No quality snapshot yet: it appears once there is submitted work and the engine has run.</p>}
      {quality && (
        <>
          <p class="muted">
            Snapshot {quality.version} of {formatDate(quality.created_at)} · method {METHOD_NAMES[quality.method ?? ""] ?? quality.method}
            {quality.counts &&
              ` · ${quality.counts.tasks} items, ${quality.counts.results} results, ${quality.counts.annotators} annotators` +
                (quality.counts.skipped ? `, ${quality.counts.skipped} skipped` : "")}
          </p>
          {quality.note && <p class="hint">{quality.note}</p>}
          {agreementRows.length > 0 && (
            <table class="num-table" aria-label="Agreement">
              <tbody>
                {agreementRows.map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">{k}</th>
                    <td class="num">{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {annotators.length > 0 && (
            <>
              <h3>Annotators</h3>
              <table class="num-table" aria-label="Annotator quality">
                <thead>
                  <tr>
                    <th>Annotator</th>
                    {cols.map((c) => (
                      <th key={c} class="num">
                        {c.replace(/_/g, " ")}
                      </th>
                    ))}
                    {hasBias && <th>bias</th>}
                  </tr>
                </thead>
                <tbody>
                  {annotators.map((a) => (
                    <tr key={String(a.annotator_id)}>
                      <td>#{String(a.annotator_id)}</td>
                      {cols.map((c) => (
                        <td key={c} class="num">
                          {fmtNum(a[c])}
                        </td>
                      ))}
                      {hasBias && (
                        <td>
                          {Object.entries((a.bias as Record<string, unknown>) ?? {})
                            .map(([k, v]) => `${k} ${fmtNum(v)}`)
                            .join(", ")}
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </div>
  );
}
