import { describe, expect, it } from "vitest";
import { diffStats, diffWords, tokenize } from "../src/lib/diff";

/** Rebuilds both sides from the ops: they must give back the inputs. */
function sides(ops: ReturnType<typeof diffWords>) {
  const a = ops.filter((o) => o.kind !== "ins").map((o) => o.text).join("");
  const b = ops.filter((o) => o.kind !== "del").map((o) => o.text).join("");
  return { a, b };
}

describe("diffWords", () => {
  it("marks a replaced word", () => {
    const ops = diffWords("Take antibiotics for a cold.", "Do not take antibiotics for a cold.");
    expect(ops).toEqual([
      { kind: "del", text: "Take" },
      { kind: "ins", text: "Do not take" },
      { kind: "same", text: " antibiotics for a cold." },
    ]);
    expect(diffStats(ops)).toEqual({ added: 3, removed: 1 });
  });

  it("returns one same op for equal texts and handles empty sides", () => {
    expect(diffWords("a b", "a b")).toEqual([{ kind: "same", text: "a b" }]);
    expect(diffWords("", "new text")).toEqual([{ kind: "ins", text: "new text" }]);
    expect(diffWords("old", "")).toEqual([{ kind: "del", text: "old" }]);
  });

  it("reconstructs both inputs on random edits", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const vocab = ["the", "cat", "sat", "on", "mat", ",", ".", "dog", "ran"];
    for (let round = 0; round < 200; round++) {
      const words = (n: number) => Array.from({ length: n }, () => vocab[Math.floor(rand() * vocab.length)]).join(" ");
      const a = words(Math.floor(rand() * 30));
      const b = words(Math.floor(rand() * 30));
      const ops = diffWords(a, b);
      expect(sides(ops)).toEqual({ a, b });
    }
  });

  it("is minimal on a single insertion in a long text", () => {
    const base = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(" ");
    const edited = base.replace("w1000", "w1000 inserted");
    const ops = diffWords(base, edited);
    const changed = ops.filter((o) => o.kind !== "same");
    expect(changed).toHaveLength(1);
    expect(changed[0].kind).toBe("ins");
    expect(changed[0].text.trim()).toBe("inserted");
    expect(sides(ops)).toEqual({ a: base, b: edited });
  });

  it("tokenizes CJK and punctuation", () => {
    expect(tokenize("你好, world!")).toEqual(["你好", ",", " ", "world", "!"]);
  });
});
