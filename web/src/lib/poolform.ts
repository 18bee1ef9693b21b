// The pool form's state → a CreatePoolRequest body (docs/openapi.yaml), with a
// validation message per field; plus the export formats and file names per task type.
import type { TaskType } from "../api";
import { parseMoney } from "./format";

export const TASK_TYPES: TaskType[] = ["bbox", "classify", "pairwise", "rating", "rewrite", "reference"];

export interface PoolFormState {
  name: string;
  taskType: TaskType;
  /** bbox, classify: one label per line, or a comma-separated list. */
  labels: string;
  /** rating: one criterion per line, or a comma-separated list. */
  criteria: string;
  scaleMin: string;
  scaleMax: string;
  /** pairwise, rating. */
  rationaleRequired: boolean;
  /** Decimal amount in the project's currency, e.g. "0.30". */
  price: string;
  overlap: string;
  leaseMinutes: string;
  maxRounds: string;
  /** A datetime-local value ("2026-12-01T08:00"), or "" for none. */
  opensAt: string;
  /** Workforce settings (config.workforce); blank fields keep the server's defaults. */
  domain: string;
  skill: string;
  trialRequired: boolean;
  /** Percent, e.g. "80". */
  trialPassPercent: string;
  trialTasks: string;
  /** Percent of claims served as gold checks, e.g. "5". */
  goldPercent: string;
  tierMin: string;
  dailyCap: string;
  breakAfterMinutes: string;
  /** Decimal amount per hour in the project's currency, or "". */
  hourlyFloor: string;
  /** Dynamic overlap: at most this many annotators ("" = fixed overlap). */
  dynamicMax: string;
  /** Percent confidence to stop at, e.g. "90". */
  dynamicConfidencePercent: string;
}

export function defaultPoolForm(taskType: TaskType = "bbox"): PoolFormState {
  return {
    name: "",
    taskType,
    labels: "",
    criteria: "",
    scaleMin: "1",
    scaleMax: "5",
    rationaleRequired: false,
    price: "",
    overlap: "1",
    leaseMinutes: "10",
    maxRounds: "3",
    opensAt: "",
    domain: "",
    skill: "",
    trialRequired: false,
    trialPassPercent: "80",
    trialTasks: "5",
    goldPercent: "",
    tierMin: "newcomer",
    dailyCap: "",
    breakAfterMinutes: "",
    hourlyFloor: "",
    dynamicMax: "",
    dynamicConfidencePercent: "90",
  };
}

/** Field keys, named as the server names them in `error.field`. */
export type PoolField =
  | "name"
  | "task_type"
  | "config.labels"
  | "config.criteria"
  | "config.scale"
  | "config.rationale_required"
  | "price"
  | "overlap"
  | "lease_seconds"
  | "max_rounds"
  | "opens_at"
  | "config.workforce";

export type PoolErrors = Partial<Record<PoolField, string>>;

export const usesLabels = (t: TaskType) => t === "bbox" || t === "classify";
export const usesRationale = (t: TaskType) => t === "pairwise" || t === "rating";

/** "a, b\nc" → ["a", "b", "c"]: one per line, or a comma list; blanks dropped. */
export function splitList(text: string): string[] {
  const parts = text.includes("\n") ? text.split(/\r?\n/) : text.split(",");
  return parts.map((s) => s.trim()).filter(Boolean);
}

/** "+08:00" for an offset in minutes east of UTC (480). */
function offsetText(east: number): string {
  const sign = east >= 0 ? "+" : "-";
  const a = Math.abs(east);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

/**
 * A datetime-local value → RFC 3339 with the local time zone's offset
 * ("2026-12-01T08:00" → "2026-12-01T08:00:00+08:00"); null when malformed.
 * `offsetEast` overrides the browser's offset (minutes east of UTC) for tests.
 */
export function localToRfc3339(value: string, offsetEast?: number): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s = "00"] = m.slice(1);
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(date.getTime()) || date.getMonth() !== Number(mo) - 1 || date.getDate() !== Number(d)) return null;
  const east = offsetEast ?? -date.getTimezoneOffset();
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${offsetText(east)}`;
}

function intIn(text: string, lo: number, hi: number): number | null {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) return null;
  const v = Number(t);
  return v >= lo && v <= hi ? v : null;
}

export interface PoolRequest {
  body: Record<string, unknown> | null;
  errors: PoolErrors;
}

/**
 * Validates the form and builds the CreatePoolRequest body (null when any
 * field is invalid). The price is in `currency` (the project's).
 * Duplicate labels and criteria are left to the server, which names them.
 */
export function buildPoolRequest(f: PoolFormState, currency = "CNY", offsetEast?: number): PoolRequest {
  const errors: PoolErrors = {};
  const name = f.name.trim();
  if (!name) errors.name = "Give the pool a name.";
  else if (name.length > 200) errors.name = "At most 200 characters.";
  if (!TASK_TYPES.includes(f.taskType)) errors.task_type = "Choose a task type.";

  const config: Record<string, unknown> = {};
  if (usesLabels(f.taskType)) {
    const labels = splitList(f.labels);
    if (labels.length === 0) errors["config.labels"] = "Enter at least one label (one per line, or separated by commas).";
    config.labels = labels;
  }
  if (f.taskType === "rating") {
    const criteria = splitList(f.criteria);
    if (criteria.length === 0) errors["config.criteria"] = "Enter at least one criterion (one per line, or separated by commas).";
    config.criteria = criteria;
    const min = intIn(f.scaleMin, -1_000_000, 1_000_000);
    const max = intIn(f.scaleMax, -1_000_000, 1_000_000);
    if (min === null || max === null) errors["config.scale"] = "The scale needs whole numbers for its minimum and maximum.";
    else if (min >= max) errors["config.scale"] = "The minimum must be below the maximum.";
    else config.scale = { min, max };
  }
  if (usesRationale(f.taskType)) config.rationale_required = f.rationaleRequired;

  const minor = parseMoney(f.price, currency);
  if (f.price.trim() === "") errors.price = `Enter the price per task in ${currency}, e.g. 0.30.`;
  else if (minor === null) errors.price = `Not an amount in ${currency}: write it like 0.30 (at most 2 decimals).`;

  const overlap = intIn(f.overlap, 1, 100);
  if (overlap === null) errors.overlap = "A whole number from 1 to 100.";
  const lease = intIn(f.leaseMinutes, 1, 10080);
  if (lease === null) errors.lease_seconds = "A whole number of minutes from 1 to 10080 (7 days).";
  const rounds = intIn(f.maxRounds, 1, 10);
  if (rounds === null) errors.max_rounds = "A whole number from 1 to 10.";

  const workforce = buildWorkforce(f, currency, errors);
  if (workforce) config.workforce = workforce;

  let opensAt: string | null = null;
  if (f.opensAt.trim()) {
    opensAt = localToRfc3339(f.opensAt, offsetEast);
    if (!opensAt) errors.opens_at = "Not a date and time.";
  }

  if (Object.keys(errors).length) return { body: null, errors };
  const body: Record<string, unknown> = {
    name,
    task_type: f.taskType,
    config,
    price: { amount_minor: minor, currency },
    overlap,
    lease_seconds: lease! * 60,
    max_rounds: rounds,
  };
  if (opensAt) body.opens_at = opensAt;
  return { body, errors };
}

/**
 * config.workforce from the form, or null when every setting is left at its
 * default; problems go to errors["config.workforce"].
 */
function buildWorkforce(f: PoolFormState, currency: string, errors: PoolErrors): Record<string, unknown> | null {
  const w: Record<string, unknown> = {};
  const problems: string[] = [];
  const pct = (text: string, what: string, max: number) => {
    const v = Number(text);
    if (text.trim() === "" || !Number.isFinite(v) || v < 0 || v > max) {
      problems.push(`${what}: a percentage from 0 to ${max}.`);
      return null;
    }
    return v / 100;
  };
  if (f.domain.trim()) w.domain = f.domain.trim();
  if (f.skill.trim()) w.skill = f.skill.trim();
  if (f.trialRequired) {
    const threshold = pct(f.trialPassPercent, "Trial pass mark", 100);
    const tasks = intIn(f.trialTasks, 1, 200);
    if (tasks === null) problems.push("Trial tasks: a whole number from 1 to 200.");
    w.trial = { required: true, pass_threshold: threshold, tasks };
  }
  if (f.goldPercent.trim()) w.gold_rate = pct(f.goldPercent, "Gold checks", 50);
  if (f.tierMin && f.tierMin !== "newcomer") w.tier_min = f.tierMin;
  if (f.dailyCap.trim()) {
    const cap = intIn(f.dailyCap, 0, 100000);
    if (cap === null) problems.push("Daily cap: a whole number of tasks.");
    w.daily_cap = cap;
  }
  if (f.breakAfterMinutes.trim()) {
    const m = intIn(f.breakAfterMinutes, 0, 1440);
    if (m === null) problems.push("Break after: a whole number of minutes up to 1440.");
    w.break_after_minutes = m;
  }
  if (f.hourlyFloor.trim()) {
    const minor = parseMoney(f.hourlyFloor, currency);
    if (minor === null) problems.push(`Hourly floor: an amount in ${currency}, e.g. 150.`);
    w.hourly_floor = { amount_minor: minor, currency };
  }
  if (f.dynamicMax.trim()) {
    const max = intIn(f.dynamicMax, 1, 100);
    if (max === null) problems.push("Dynamic overlap: at most 1 to 100 annotators.");
    w.dynamic_overlap = { min: 1, max, confidence: pct(f.dynamicConfidencePercent, "Confidence", 100) };
  }
  if (problems.length) errors["config.workforce"] = problems.join(" ");
  return Object.keys(w).length ? w : null;
}

/**
 * The form field a server error belongs to (`config.labels[1]` → `config.labels`,
 * `price.currency` → `price`, `config.scale.min` → `config.scale`); null when none.
 */
export function formFieldOf(serverField: string | null | undefined): PoolField | null {
  if (!serverField) return null;
  const fields: PoolField[] = [
    "config.labels",
    "config.criteria",
    "config.scale",
    "config.rationale_required",
    "config.workforce",
    "name",
    "task_type",
    "price",
    "overlap",
    "lease_seconds",
    "max_rounds",
    "opens_at",
  ];
  for (const f of fields) {
    if (serverField === f || serverField.startsWith(`${f}.`) || serverField.startsWith(`${f}[`)) return f;
  }
  return null;
}

/**
 * A server message made specific to the form: `config.labels[1]` "duplicate
 * label" → "duplicate label: “car” (label 2)".
 */
export function serverMessage(serverField: string, message: string, f: PoolFormState): string {
  const m = /^config\.(labels|criteria)\[(\d+)\]$/.exec(serverField);
  if (!m) return message;
  const items = splitList(m[1] === "labels" ? f.labels : f.criteria);
  const k = Number(m[2]);
  const what = m[1] === "labels" ? "label" : "criterion";
  return items[k] !== undefined ? `${message}: “${items[k]}” (${what} ${k + 1})` : message;
}

/** Export formats the server offers for a pool of `type` (docs/formats.md). */
export function exportFormats(type: TaskType): string[] {
  switch (type) {
    case "bbox":
      return ["jsonl", "coco", "yolo", "voc", "ls"];
    case "pairwise":
      return ["dpo", "jsonl"];
    case "rewrite":
    case "reference":
      return ["sft", "jsonl"];
    case "rating":
      return ["ratings-jsonl", "ratings-csv", "jsonl"];
    case "classify":
      return ["jsonl"];
  }
}

export const EXPORT_MODES = ["raw", "aggregated", "gold", "preannotations"] as const;

/**
 * The download's file name, as the server names the export (pool-5-dpo.jsonl,
 * pool-1-yolo.tar) with the mode added when it is not raw (pool-5-dpo-aggregated.jsonl).
 */
export function exportFileName(poolId: number, format: string, mode = "raw"): string {
  const ext =
    format === "yolo" || format === "voc"
      ? ".tar"
      : format === "coco" || format === "ls"
        ? ".json"
        : format === "ratings-csv"
          ? ".csv"
          : ".jsonl";
  return `pool-${poolId}-${format}${mode === "raw" ? "" : `-${mode}`}${ext}`;
}
