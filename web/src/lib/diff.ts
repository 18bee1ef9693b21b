// Word-level diff (Myers' O(ND) algorithm over word and whitespace tokens),
// for the rewrite workspace and for comparing review rounds.

export type DiffOp = { kind: "same" | "ins" | "del"; text: string };

/** Splits text into words, runs of whitespace and single punctuation marks. */
export function tokenize(s: string): string[] {
  return s.match(/\s+|[\p{L}\p{N}_'’-]+|[^\s\p{L}\p{N}_]/gu) ?? [];
}

/** The edit script turning `a` into `b`, adjacent operations of one kind merged. */
export function diffWords(a: string, b: string): DiffOp[] {
  const x = tokenize(a);
  const y = tokenize(b);
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start++;
  let endX = x.length;
  let endY = y.length;
  while (endX > start && endY > start && x[endX - 1] === y[endY - 1]) {
    endX--;
    endY--;
  }
  const ops: DiffOp[] = [];
  const push = (kind: DiffOp["kind"], text: string) => {
    const last = ops[ops.length - 1];
    if (last && last.kind === kind) last.text += text;
    else ops.push({ kind, text });
  };
  x.slice(0, start).forEach((t) => push("same", t));
  for (const op of myers(x.slice(start, endX), y.slice(start, endY))) push(op.kind, op.text);
  x.slice(endX).forEach((t) => push("same", t));
  return ops;
}

function myers(x: string[], y: string[]): DiffOp[] {
  const n = x.length;
  const m = y.length;
  if (n === 0) return y.map((t) => ({ kind: "ins" as const, text: t }));
  if (m === 0) return x.map((t) => ({ kind: "del" as const, text: t }));
  const max = n + m;
  const offset = max;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let i: number;
      if (k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])) i = v[offset + k + 1];
      else i = v[offset + k - 1] + 1;
      let j = i - k;
      while (i < n && j < m && x[i] === y[j]) {
        i++;
        j++;
      }
      v[offset + k] = i;
      if (i >= n && j >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace back from (n, m).
  const out: DiffOp[] = [];
  let i = n;
  let j = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d];
    const k = i - j;
    let prevK: number;
    if (k === -d || (k !== d && vd[offset + k - 1] < vd[offset + k + 1])) prevK = k + 1;
    else prevK = k - 1;
    const prevI = vd[offset + prevK];
    const prevJ = prevI - prevK;
    while (i > prevI && j > prevJ) {
      out.push({ kind: "same", text: x[i - 1] });
      i--;
      j--;
    }
    if (d > 0) {
      if (i === prevI) out.push({ kind: "ins", text: y[j - 1] });
      else out.push({ kind: "del", text: x[i - 1] });
    }
    i = prevI;
    j = prevJ;
  }
  return out.reverse();
}

/** Counts of words added and removed (whitespace not counted). */
export function diffStats(ops: DiffOp[]): { added: number; removed: number } {
  const words = (s: string) => tokenize(s).filter((t) => /[\p{L}\p{N}]/u.test(t)).length;
  let added = 0;
  let removed = 0;
  for (const op of ops) {
    if (op.kind === "ins") added += words(op.text);
    if (op.kind === "del") removed += words(op.text);
  }
  return { added, removed };
}
