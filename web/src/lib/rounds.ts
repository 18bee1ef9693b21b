// What changed between two rounds of a submission, for the reviewer desk.
import type { Box, Result, TaskType } from "../api";

export interface RoundChange {
  /** Text of the result before and after, for a word diff (null when the type has none). */
  text: { before: string; after: string } | null;
  /** One line per other change, readable. */
  notes: string[];
}

const boxKey = (b: Box) => `${b.label}|${b.x.toFixed(1)}|${b.y.toFixed(1)}|${b.w.toFixed(1)}|${b.h.toFixed(1)}`;

export function compareRounds(type: TaskType, before: Result, after: Result): RoundChange {
  const notes: string[] = [];
  const s = (v: unknown) => (typeof v === "string" ? v : "");
  switch (type) {
    case "rewrite":
    case "reference":
      return { text: { before: s(before.text), after: s(after.text) }, notes };
    case "bbox": {
      const a = ((before.boxes as Box[]) ?? []).map(boxKey);
      const b = ((after.boxes as Box[]) ?? []).map(boxKey);
      const left = new Map<string, number>();
      a.forEach((k) => left.set(k, (left.get(k) ?? 0) + 1));
      let kept = 0;
      for (const k of b) {
        const n = left.get(k) ?? 0;
        if (n > 0) {
          left.set(k, n - 1);
          kept++;
        }
      }
      const removed = a.length - kept;
      const added = b.length - kept;
      notes.push(
        added || removed
          ? `${added} box${added === 1 ? "" : "es"} added or changed, ${removed} removed or changed, ${kept} unchanged`
          : "The boxes are unchanged.",
      );
      return { text: null, notes };
    }
    case "classify":
      notes.push(before.label === after.label ? `Label unchanged (${s(after.label)}).` : `Label: ${s(before.label)} → ${s(after.label)}.`);
      return { text: null, notes };
    case "pairwise":
      notes.push(before.choice === after.choice ? `Choice unchanged (${s(after.choice)}).` : `Choice: ${s(before.choice)} → ${s(after.choice)}.`);
      return { text: { before: s(before.rationale), after: s(after.rationale) }, notes };
    case "rating": {
      const a = (before.scores ?? {}) as Record<string, number>;
      const b = (after.scores ?? {}) as Record<string, number>;
      for (const c of Object.keys({ ...a, ...b })) {
        if (a[c] !== b[c]) notes.push(`${c}: ${a[c] ?? "—"} → ${b[c] ?? "—"}`);
      }
      if (!notes.length) notes.push("Scores unchanged.");
      return { text: { before: s(before.rationale), after: s(after.rationale) }, notes };
    }
  }
  return { text: null, notes };
}
