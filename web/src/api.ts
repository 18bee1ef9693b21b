// The JSON API client (docs/openapi.yaml is the contract) and its types.

export type Role = "admin" | "requester" | "reviewer" | "annotator";
export type TaskType = "bbox" | "classify" | "pairwise" | "rating" | "rewrite" | "reference";

export interface Money {
  amount_minor: number;
  currency: string;
}
export interface User {
  id: number;
  username: string;
  roles: Role[];
  created_at: string;
}
export interface Standing {
  submitted: number;
  accepted: number;
  rejected: number;
  first_pass_accepted: number;
  in_review: number;
  returned: number;
}
export interface Me extends User {
  standing: Standing;
}
export interface PoolConfig {
  labels?: string[];
  criteria?: string[];
  scale?: { min: number; max: number };
  rationale_required?: boolean;
  [key: string]: unknown;
}
export interface Pool {
  id: number;
  project_id: number;
  name: string;
  task_type: TaskType;
  config: PoolConfig;
  price: Money;
  overlap: number;
  lease_seconds: number;
  max_rounds: number;
  opens_at: string | null;
  state: "draft" | "scheduled" | "open" | "closed";
  created_at: string;
}
export interface MyWork {
  submitted: number;
  accepted: number;
  rejected: number;
  returned: number;
  in_review: number;
  first_pass_accepted: number;
}
export interface PoolListItem extends Pool {
  can_claim: boolean;
  reasons: string[];
  owned: boolean;
  active_claim_id?: number | null;
  hourly_estimate?: Money | null;
  my_work?: MyWork;
}
export interface PoolDetail extends Pool {
  guidelines: string;
  can_claim: boolean;
  reasons: string[];
}
export interface Box {
  label: string;
  x: number;
  y: number;
  w: number;
  h: number;
}
export interface Preannotation {
  result: { boxes?: Box[]; text?: string; [key: string]: unknown };
  model?: string;
  score?: number | null;
  [key: string]: unknown;
}
export interface TaskData {
  image?: string;
  width?: number;
  height?: number;
  text?: string;
  prompt?: string;
  response?: string;
  responses?: string[];
  [key: string]: unknown;
}
export interface Task {
  id: number;
  pool_id: number;
  data: TaskData;
  preannotations?: Preannotation[];
  /** Where the image comes from when not `/tasks/{id}/image` (trial tasks). */
  image_route?: string;
}
export interface Claim {
  id: number;
  task_id: number;
  pool_id: number;
  annotator_id: number;
  state: string;
  created_at: string;
  expires_at: string;
}
export interface ClaimResponse {
  claim: Claim;
  task: Task;
}
export type Result = Record<string, unknown>;
export type Anchor = { box: number } | { span: { start: number; end: number } } | null;
export interface Comment {
  text: string;
  anchor?: Anchor;
}
export interface Round {
  round: number;
  result: Result;
  active_seconds: number;
  submitted_at: string;
  verdict: "accept" | "revise" | "reject" | null;
  comments: Comment[];
  reviewed_at: string | null;
}
export interface Submission {
  id: number;
  claim_id: number;
  task_id: number;
  pool_id: number;
  annotator_id: number;
  state: "pending_review" | "in_review" | "returned" | "accepted" | "rejected";
  round: number;
  first_pass: boolean;
  created_at: string;
  updated_at: string;
  rounds: Round[];
  task?: Task;
  next?: ClaimResponse | null;
  next_reason?: string;
}
export interface ReviewLease {
  submission: Submission & { review_expires_at: string };
  task: Task;
  pool: Pool;
}
export interface LedgerEntry {
  id: number;
  journal_id: number;
  amount: Money;
  kind: string;
  submission_id: number | null;
  memo: string;
  created_at: string;
}
export interface PoolEarnings {
  pool_id: number;
  pool_name: string;
  accepted: number;
  earned: Money;
  active_seconds: number;
  hourly: Money | null;
  /** Hourly-floor top-ups credited in this pool. */
  topups?: Money | null;
}
export interface Earnings {
  balance: Money;
  balances: Money[];
  entries: LedgerEntry[];
  pools?: PoolEarnings[];
}
export interface Appeal {
  id: number;
  submission_id: number;
  annotator_id: number;
  note: string;
  state: "open" | "upheld" | "denied";
  decided_by?: number | null;
  decision_note?: string | null;
  created_at: string;
  decided_at?: string | null;
  submission?: Submission;
  [key: string]: unknown;
}
export interface ProjectSummary {
  id: number;
  name: string;
  description: string;
  created_at: string;
}
export interface Project extends ProjectSummary {
  owner_id: number;
  guidelines: string;
  budget: { remaining: Money };
  pools: Pool[];
}
export interface PoolStats {
  pool_id: number;
  tasks: number;
  open_slots: number;
  active_claims: number;
  in_review: number;
  returned: number;
  accepted: number;
  rejected: number;
  first_pass_rate: number | null;
  cost: Money;
  throughput?: { start: string; submitted: number; accepted: number }[];
  hourly_earnings?: number[];
  budget_remaining?: Money;
}
export interface ImportReport {
  created: number;
  duplicates?: number;
  skipped?: number;
  gold?: number;
  drafts?: number;
  first_task_id: number;
  last_task_id: number;
  errors?: { message: string; field?: string }[];
}

/** An error answered by the API ({"error": {code, message, field}}) or the network. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
  /** "field: message" when the server named a field. */
  get readable(): string {
    return this.field ? `${this.field}: ${this.message}` : this.message;
  }
}

const TOKEN_KEY = "tessera.token";
let token: string | null = typeof localStorage !== "undefined" ? localStorage.getItem(TOKEN_KEY) : null;
let onUnauthorized: () => void = () => {};

export function setToken(t: string | null): void {
  token = t;
  if (t) localStorage.setItem(TOKEN_KEY, t);
  else localStorage.removeItem(TOKEN_KEY);
}
export function hasToken(): boolean {
  return token !== null;
}
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

export interface RequestOptions {
  body?: unknown;
  raw?: BodyInit;
  contentType?: string;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

function url(path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== false) params.set(k, v === true ? "1" : String(v));
  }
  const qs = params.toString();
  return `/api/v1${path}${qs ? `?${qs}` : ""}`;
}

async function send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (opts.raw !== undefined) {
    body = opts.raw;
    if (opts.contentType) headers["Content-Type"] = opts.contentType;
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["Content-Type"] = "application/json";
  }
  let resp: Response;
  try {
    resp = await fetch(url(path, opts.query), { method, headers, body, signal: opts.signal });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, "network", "The server cannot be reached. Check your connection and try again.");
  }
  if (!resp.ok) {
    let code = "http_error";
    let message = `${resp.status} ${resp.statusText}`;
    let field: string | undefined;
    try {
      const j = await resp.json();
      if (j && j.error) {
        code = j.error.code ?? code;
        message = j.error.message ?? message;
        field = j.error.field ?? undefined;
      }
    } catch {
      // Not JSON: keep the status line.
    }
    if (resp.status === 401 && path !== "/auth/login") {
      setToken(null);
      onUnauthorized();
    }
    throw new ApiError(resp.status, code, message, field);
  }
  return resp;
}

/** Sends a request and returns the parsed JSON answer (null for an empty body). */
export async function api<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const resp = await send(method, path, opts);
  const text = await resp.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** Sends a request and returns the body as a Blob (images, exports). */
export async function apiBlob(path: string, opts: RequestOptions = {}): Promise<Blob> {
  const resp = await send("GET", path, opts);
  return resp.blob();
}

/** An admin's invitation to review (docs/workforce.md, "Invitations to review"). */
export interface ReviewerInvitation {
  id: number;
  user_id: number;
  invited_by: number;
  note: string;
  state: "pending" | "accepted" | "declined";
  created_at: string;
  decided_at: string | null;
}

export const Api = {
  login: (username: string, password: string) =>
    api<{ token: string; expires_at: string; user: User }>("POST", "/auth/login", { body: { username, password } }),
  logout: () => api<null>("POST", "/auth/logout"),
  me: () => api<Me>("GET", "/me"),
  earnings: () => api<Earnings>("GET", "/me/earnings"),
  mySubmissions: (state?: Submission["state"]) =>
    api<{ submissions: Submission[] }>("GET", "/me/submissions", { query: { state } }),
  pools: () => api<{ pools: PoolListItem[] }>("GET", "/pools"),
  pool: (id: number) => api<PoolDetail>("GET", `/pools/${id}`),
  poolStats: (id: number) => api<PoolStats>("GET", `/pools/${id}/stats`),
  poolQuality: (id: number) => api<Record<string, unknown>>("GET", `/pools/${id}/quality`),
  claim: (poolId: number) => api<ClaimResponse>("POST", `/pools/${poolId}/claims`),
  giveBack: (claimId: number) => api<unknown>("DELETE", `/claims/${claimId}`),
  submit: (claimId: number, result: Result, activeSeconds: number, idempotencyKey: string, next: boolean) =>
    api<Submission>("POST", `/claims/${claimId}/submit`, {
      body: { result, active_seconds: activeSeconds },
      headers: { "Idempotency-Key": idempotencyKey },
      query: { next },
    }),
  submission: (id: number) => api<Submission>("GET", `/submissions/${id}`),
  revise: (id: number, result: Result, activeSeconds: number, idempotencyKey: string) =>
    api<Submission>("POST", `/submissions/${id}/revise`, {
      body: { result, active_seconds: activeSeconds },
      headers: { "Idempotency-Key": idempotencyKey },
    }),
  reviewClaim: (poolId: number) => api<ReviewLease>("POST", `/pools/${poolId}/review-claims`),
  review: (submissionId: number, verdict: "accept" | "revise" | "reject", comments: Comment[]) =>
    api<Submission>("POST", `/submissions/${submissionId}/review`, { body: { verdict, comments } }),
  projects: () => api<{ projects: ProjectSummary[] }>("GET", "/projects"),
  project: (id: number) => api<Project>("GET", `/projects/${id}`),
  createProject: (body: Record<string, unknown>) => api<Project>("POST", "/projects", { body }),
  createPool: (projectId: number, body: Record<string, unknown>) =>
    api<Pool>("POST", `/projects/${projectId}/pools`, { body }),
  openPool: (id: number) => api<Pool>("POST", `/pools/${id}/open`),
  closePool: (id: number) => api<Pool>("POST", `/pools/${id}/close`),
  /** Imports a JSONL, COCO or Label Studio body (docs/formats.md); `options` are the import's query flags. */
  importTasks: (poolId: number, body: string, format: string, options: RequestOptions["query"] = {}) =>
    api<ImportReport>("POST", `/pools/${poolId}/tasks`, {
      raw: body,
      contentType: format === "coco" || format === "ls" ? "application/json" : "application/x-ndjson",
      query: { format, ...options },
    }),
  aggregate: (poolId: number) => api<Record<string, unknown>>("POST", `/pools/${poolId}/aggregate`),
  uploadImage: (poolId: number, file: File) =>
    api<{ task_id: number; image: string; width: number; height: number }>("POST", `/pools/${poolId}/images`, {
      raw: file,
      contentType: file.type || "application/octet-stream",
      query: { name: file.name },
    }),
  appeal: (submissionId: number, note: string) => api<Appeal>("POST", `/submissions/${submissionId}/appeal`, { body: { note } }),
  myAppeals: () => api<{ appeals: Appeal[] }>("GET", "/me/appeals"),
  openAppeals: () => api<{ appeals: Appeal[] }>("GET", "/appeals", { query: { state: "open" } }),
  decideAppeal: (id: number, decision: "uphold" | "deny", note: string) =>
    api<Appeal>("POST", `/appeals/${id}/decide`, { body: { decision, note } }),
  myStanding: () => api<Record<string, unknown>>("GET", "/me/standing"),
  /** The signed record as the server's bytes (re-serialising would change what was signed). */
  myRecord: () => apiBlob("/me/record"),
  myProfile: () => api<Record<string, unknown>>("GET", "/me/profile"),
  saveProfile: (body: Record<string, unknown>) => api<Record<string, unknown>>("PUT", "/me/profile", { body }),
  unverifiedProfiles: () => api<Record<string, unknown>>("GET", "/profiles", { query: { unverified: true } }),
  grantSkill: (userId: number, skill: string, reason: string) =>
    api<Record<string, unknown>>("POST", `/users/${userId}/skills`, { body: { skill, reason } }),
  startTrial: (poolId: number) => api<Record<string, unknown>>("POST", `/pools/${poolId}/trial`),
  trial: (attemptId: number) => api<Record<string, unknown>>("GET", `/trials/${attemptId}`),
  trialAnswer: (attemptId: number, trialTaskId: number, result: Result, activeSeconds: number) =>
    api<Record<string, unknown>>("POST", `/trials/${attemptId}/answers`, {
      body: { trial_task_id: trialTaskId, result, active_seconds: activeSeconds },
    }),
  poolFlags: (poolId: number) => api<Record<string, unknown>>("GET", `/pools/${poolId}/flags`),
  poolClaims: (poolId: number) => api<Record<string, unknown>>("GET", `/pools/${poolId}/claims`),
  userStanding: (userId: number) => api<Record<string, unknown>>("GET", `/users/${userId}/standing`),
  inviteReviewer: (userId: number, note = "") =>
    api<ReviewerInvitation>("POST", `/users/${userId}/reviewer-invitations`, { body: { note } }),
  myInvitations: () => api<{ invitations: ReviewerInvitation[] }>("GET", "/me/invitations"),
  decideInvitation: (id: number, accept: boolean) =>
    api<ReviewerInvitation>("POST", `/invitations/${id}/${accept ? "accept" : "decline"}`),
  blocks: (projectId: number) => api<Record<string, unknown>>("GET", `/projects/${projectId}/blocks`),
  block: (projectId: number, annotatorId: number, reason: string) =>
    api<Record<string, unknown>>("POST", `/projects/${projectId}/blocks`, { body: { annotator_id: annotatorId, reason } }),
  flagTask: (taskId: number, section: string, note: string) =>
    api<Record<string, unknown>>("POST", `/tasks/${taskId}/flags`, { body: { section, note } }),
  taskImage: (task: Pick<Task, "id" | "image_route">, signal?: AbortSignal) =>
    apiBlob(task.image_route ?? `/tasks/${task.id}/image`, { signal }),
  exportPool: (poolId: number, format: string, mode: string) =>
    apiBlob(`/pools/${poolId}/export`, { query: { format, mode } }),
};
