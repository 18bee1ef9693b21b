// Client-side checks of results before submit (the server validates again),
// and the initial result of a task.
import type { Pool, Result, Task } from "../api";

export function validateResult(pool: Pool, result: Result | null): string | null {
  const r = result ?? {};
  const cfg = pool.config ?? {};
  const blank = (v: unknown) => typeof v !== "string" || v.trim() === "";
  switch (pool.task_type) {
    case "bbox": {
      const boxes = r.boxes;
      if (!Array.isArray(boxes)) return "No boxes.";
      const labels = cfg.labels ?? [];
      for (let i = 0; i < boxes.length; i++) {
        const b = boxes[i] as { label?: string; w?: number; h?: number };
        if (!b.label || !labels.includes(b.label)) return `Box ${i + 1} has no label.`;
        if (!(Number(b.w) > 0 && Number(b.h) > 0)) return `Box ${i + 1} is empty.`;
      }
      return null;
    }
    case "classify":
      return blank(r.label) ? "Choose a label." : null;
    case "pairwise":
      if (!["a", "b", "tie"].includes(String(r.choice))) return "Choose A, B or tie.";
      if (cfg.rationale_required && blank(r.rationale)) return "This pool asks for a rationale.";
      return null;
    case "rating": {
      const scores = (r.scores ?? {}) as Record<string, unknown>;
      for (const c of cfg.criteria ?? []) {
        if (typeof scores[c] !== "number") return `Score “${c}”.`;
      }
      if (cfg.rationale_required && blank(r.rationale)) return "This pool asks for a rationale.";
      return null;
    }
    case "rewrite":
    case "reference":
      return blank(r.text) ? "Write the text first." : null;
  }
  return null;
}

/** Where a task's work starts: drafts from a model when there are any. */
export function initialResult(pool: Pool, task: Task): Result | null {
  const draft = task.preannotations?.[0]?.result;
  switch (pool.task_type) {
    case "bbox":
      return { boxes: [] };
    case "rewrite":
      return { text: typeof draft?.text === "string" ? draft.text : (task.data.response ?? "") };
    case "reference":
      return { text: typeof draft?.text === "string" ? draft.text : "" };
    case "rating":
      return { scores: {} };
    default:
      return null;
  }
}
