import { describe, expect, it } from "vitest";
import { compareRounds } from "../src/lib/rounds";

describe("compareRounds", () => {
  it("counts moved, added and kept boxes", () => {
    const a = { boxes: [{ label: "car", x: 1, y: 1, w: 5, h: 5 }, { label: "person", x: 10, y: 10, w: 3, h: 8 }] };
    const b = { boxes: [{ label: "car", x: 1, y: 1, w: 5, h: 5 }, { label: "person", x: 12, y: 10, w: 3, h: 8 }, { label: "car", x: 0, y: 0, w: 1, h: 1 }] };
    expect(compareRounds("bbox", a, b).notes).toEqual(["2 boxes added or changed, 1 removed or changed, 1 unchanged"]);
    expect(compareRounds("bbox", a, a).notes).toEqual(["The boxes are unchanged."]);
  });

  it("gives the texts of rewrites and the changed scores of ratings", () => {
    expect(compareRounds("rewrite", { text: "old" }, { text: "new" }).text).toEqual({ before: "old", after: "new" });
    const r = compareRounds("rating", { scores: { helpful: 2, safe: 5 }, rationale: "x" }, { scores: { helpful: 4, safe: 5 }, rationale: "y" });
    expect(r.notes).toEqual(["helpful: 2 → 4"]);
    expect(r.text).toEqual({ before: "x", after: "y" });
  });

  it("names a changed pairwise choice", () => {
    expect(compareRounds("pairwise", { choice: "a" }, { choice: "tie" }).notes).toEqual(["Choice: a → tie."]);
  });
});
