// Unit tests of the bbox workspace's pure logic (web/src/lib/boxes.ts).
import { describe, expect, it } from "vitest";
import {
  clampBox,
  cleanBox,
  drawBoxes,
  drawOverlay,
  snapView,
  fitView,
  flippedHandle,
  fromCorners,
  hitHandle,
  hitTest,
  History,
  hotkeyIndex,
  labelColor,
  moveBox,
  PALETTE,
  panBy,
  resizeBox,
  toImage,
  toScreen,
  visibleRange,
  wheelFactor,
  zoomAt,
  type Box,
  type Ctx2D,
  type Handle,
  type View,
} from "../src/lib/boxes";

const B = (x: number, y: number, w: number, h: number, label = "car"): Box => ({ label, x, y, w, h });
const W = 640;
const H = 480;

describe("transform", () => {
  it("maps image to screen and back", () => {
    const v: View = { scale: 1.5, ox: 20, oy: -7 };
    expect(toScreen(v, 10, 20)).toEqual([35, 23]);
    const [x, y] = toImage(v, 35, 23);
    expect(x).toBeCloseTo(10);
    expect(y).toBeCloseTo(20);
  });

  it("fits the image centred with a margin", () => {
    const v = fitView(640, 480, 1000, 500, 10);
    expect(v.scale).toBeCloseTo(480 / 480); // height-bound: (500-20)/480
    expect(v.oy).toBeCloseTo(10);
    expect(v.ox).toBeCloseTo((1000 - 640) / 2);
    const tall = fitView(481, 640, 900, 600, 12);
    expect(tall.scale).toBeCloseTo(576 / 640);
    expect(tall.ox + (481 * tall.scale) / 2).toBeCloseTo(450);
  });

  it("zooms around a point that stays fixed", () => {
    const v: View = { scale: 0.8, ox: 33, oy: 12 };
    for (const [sx, sy, f] of [
      [100, 200, 2],
      [0, 0, 0.5],
      [517.3, 91.1, 1.37],
    ]) {
      const before = toImage(v, sx, sy);
      const z = zoomAt(v, f, sx, sy);
      expect(z.scale).toBeCloseTo(v.scale * f);
      const after = toImage(z, sx, sy);
      expect(after[0]).toBeCloseTo(before[0]);
      expect(after[1]).toBeCloseTo(before[1]);
    }
  });

  it("clamps the zoom and still keeps the point fixed", () => {
    const v: View = { scale: 30, ox: 5, oy: 5 };
    const z = zoomAt(v, 10, 50, 60, 0.02, 40);
    expect(z.scale).toBe(40);
    const a = toImage(v, 50, 60);
    const b = toImage(z, 50, 60);
    expect(b[0]).toBeCloseTo(a[0]);
    expect(b[1]).toBeCloseTo(a[1]);
  });

  it("snaps the offset to whole device pixels", () => {
    expect(snapView({ scale: 1.3, ox: 10.26, oy: 3.74 }, 1)).toEqual({ scale: 1.3, ox: 10, oy: 4 });
    expect(snapView({ scale: 1.3, ox: 10.26, oy: 3.74 }, 2)).toEqual({ scale: 1.3, ox: 10.5, oy: 3.5 });
  });

  it("pans by screen pixels and turns wheel deltas into factors", () => {
    expect(panBy({ scale: 2, ox: 1, oy: 2 }, 10, -5)).toEqual({ scale: 2, ox: 11, oy: -3 });
    expect(wheelFactor(-100)).toBeGreaterThan(1);
    expect(wheelFactor(100)).toBeLessThan(1);
    expect(wheelFactor(100) * wheelFactor(-100)).toBeCloseTo(1);
    expect(wheelFactor(3, 1)).toBeCloseTo(wheelFactor(99));
  });
});

describe("hit testing", () => {
  const boxes = [B(0, 0, 200, 200), B(50, 50, 40, 40, "person"), B(300, 300, 10, 10)];

  it("finds the smallest box under the point", () => {
    expect(hitTest(boxes, 60, 60)).toBe(1);
    expect(hitTest(boxes, 10, 10)).toBe(0);
    expect(hitTest(boxes, 305, 305)).toBe(2);
    expect(hitTest(boxes, 250, 250)).toBe(-1);
    expect(hitTest([], 1, 1)).toBe(-1);
  });

  it("counts the edge and a tolerance", () => {
    expect(hitTest(boxes, 310, 310)).toBe(2);
    expect(hitTest(boxes, 312, 305)).toBe(-1);
    expect(hitTest(boxes, 312, 305, 3)).toBe(2);
  });

  it("prefers the later box among equal ones", () => {
    expect(hitTest([B(0, 0, 10, 10), B(0, 0, 10, 10)], 5, 5)).toBe(1);
  });

  it("finds each handle in screen space", () => {
    const v: View = { scale: 2, ox: 10, oy: 20 };
    const b = B(10, 10, 50, 30); // screen: (30,40)–(130,100)
    const at: Record<Handle, [number, number]> = {
      nw: [30, 40],
      n: [80, 40],
      ne: [130, 40],
      e: [130, 70],
      se: [130, 100],
      s: [80, 100],
      sw: [30, 100],
      w: [30, 70],
    };
    for (const [hd, [sx, sy]] of Object.entries(at)) {
      expect(hitHandle(b, v, sx + 3, sy - 2)).toBe(hd);
    }
    expect(hitHandle(b, v, 80, 70)).toBeNull();
    expect(hitHandle(b, v, 30 + 9, 40)).toBeNull();
  });

  it("offers only corners on a box too small on screen", () => {
    const v: View = { scale: 1, ox: 0, oy: 0 };
    const b = B(100, 100, 12, 12);
    expect(hitHandle(b, v, 106, 100)).toBe("nw"); // n is skipped; nw is 6 px away
    expect(hitHandle(b, v, 112, 112)).toBe("se");
  });
});

describe("resize", () => {
  const b = B(100, 100, 50, 40);

  it("moves the dragged corner only", () => {
    expect(resizeBox(b, "se", 10, 5, W, H)).toEqual(B(100, 100, 60, 45));
    expect(resizeBox(b, "nw", -10, -5, W, H)).toEqual(B(90, 95, 60, 45));
    expect(resizeBox(b, "ne", 10, -5, W, H)).toEqual(B(100, 95, 60, 45));
    expect(resizeBox(b, "sw", -10, 5, W, H)).toEqual(B(90, 100, 60, 45));
  });

  it("moves one edge from the side handles", () => {
    expect(resizeBox(b, "n", 99, -10, W, H)).toEqual(B(100, 90, 50, 50));
    expect(resizeBox(b, "e", 10, 99, W, H)).toEqual(B(100, 100, 60, 40));
    expect(resizeBox(b, "s", 99, 10, W, H)).toEqual(B(100, 100, 50, 50));
    expect(resizeBox(b, "w", 10, 99, W, H)).toEqual(B(110, 100, 40, 40));
  });

  it("flips past the opposite edge from each corner", () => {
    // se dragged to the upper left of nw: the box now spans from the drag point to the old nw.
    expect(resizeBox(b, "se", -70, -60, W, H)).toEqual(B(80, 80, 20, 20));
    expect(resizeBox(b, "nw", 70, 60, W, H)).toEqual(B(150, 140, 20, 20));
    expect(resizeBox(b, "ne", -70, 60, W, H)).toEqual(B(80, 140, 20, 20));
    expect(resizeBox(b, "sw", 70, -60, W, H)).toEqual(B(150, 80, 20, 20));
    expect(flippedHandle(b, "se", -70, -60)).toBe("nw");
    expect(flippedHandle(b, "nw", 70, 60)).toBe("se");
    expect(flippedHandle(b, "ne", -70, 60)).toBe("sw");
    expect(flippedHandle(b, "sw", 70, -60)).toBe("ne");
    expect(flippedHandle(b, "e", -10, 0)).toBe("e");
  });

  it("clamps to the image", () => {
    expect(resizeBox(b, "se", 1000, 1000, W, H)).toEqual(B(100, 100, W - 100, H - 100));
    expect(resizeBox(b, "nw", -500, -500, W, H)).toEqual(B(0, 0, 150, 140));
  });
});

describe("move and clamp", () => {
  it("keeps a moved box whole inside the image", () => {
    const b = B(100, 100, 50, 40);
    expect(moveBox(b, 10, -20, W, H)).toEqual(B(110, 80, 50, 40));
    expect(moveBox(b, -500, 0, W, H)).toEqual(B(0, 100, 50, 40));
    expect(moveBox(b, 1000, 1000, W, H)).toEqual(B(W - 50, H - 40, 50, 40));
  });

  it("clamps and normalises a drawn box", () => {
    expect(clampBox(B(-10, -20, 30, 40), W, H)).toEqual(B(0, 0, 20, 20));
    expect(clampBox(B(630, 470, 30, 40), W, H)).toEqual(B(630, 470, 10, 10));
    expect(clampBox(B(50, 60, -20, -30), W, H)).toEqual(B(30, 30, 20, 30));
    expect(clampBox(B(700, 10, 20, 20), W, H).w).toBe(0);
    expect(fromCorners("car", 10, 50, 5, 20)).toEqual(B(5, 20, 5, 30));
  });

  it("rounds to a tenth of a pixel and drops the model score", () => {
    expect(cleanBox({ label: "car", x: 10.04, y: 3.333, w: 10.2999, h: 1.25, score: 0.9 })).toEqual({ label: "car", x: 10, y: 3.3, w: 10.3, h: 1.3 });
  });
});

describe("history", () => {
  it("undoes and redoes in order, and a new edit drops the redo branch", () => {
    const h = new History<number[]>([]);
    expect(h.canUndo).toBe(false);
    h.push([1]);
    h.push([1, 2]);
    h.push([1, 2, 3]);
    expect(h.undo()).toEqual([1, 2]);
    expect(h.undo()).toEqual([1]);
    expect(h.canRedo).toBe(true);
    expect(h.redo()).toEqual([1, 2]);
    h.push([1, 2, 9]);
    expect(h.canRedo).toBe(false);
    expect(h.redo()).toEqual([1, 2, 9]);
    expect(h.undo()).toEqual([1, 2]);
    expect(h.undo()).toEqual([1]);
    expect(h.undo()).toEqual([]);
    expect(h.undo()).toEqual([]); // nothing left: stays
    expect(h.canUndo).toBe(false);
    expect(h.redo()).toEqual([1]);
  });

  it("forgets the oldest states past its limit, and reset clears it", () => {
    const h = new History(0, 3);
    for (let i = 1; i <= 10; i++) h.push(i);
    expect([h.undo(), h.undo(), h.undo(), h.undo()]).toEqual([9, 8, 7, 7]);
    h.reset(42);
    expect(h.present).toBe(42);
    expect(h.canUndo || h.canRedo).toBe(false);
  });
});

describe("labels and list", () => {
  it("gives each label its own colour and maps hotkeys", () => {
    const labels = ["person", "car", "traffic light"];
    const colors = labels.map((l) => labelColor(labels, l));
    expect(new Set(colors).size).toBe(3);
    expect(new Set(PALETTE).size).toBe(PALETTE.length);
    expect(labelColor(labels, "bus")).not.toBe(colors[0]);
    expect(hotkeyIndex("2", 3)).toBe(1);
    expect(hotkeyIndex("4", 3)).toBe(-1);
    expect(hotkeyIndex("0", 3)).toBe(-1);
    expect(hotkeyIndex("a", 3)).toBe(-1);
  });

  it("renders only the visible rows of a long list", () => {
    expect(visibleRange(0, 360, 36, 1500, 5)).toEqual([0, 15]);
    expect(visibleRange(3600, 360, 36, 1500, 5)).toEqual([95, 115]);
    expect(visibleRange(1e6, 360, 36, 1500, 5)).toEqual([1500, 1500]);
    expect(visibleRange(0, 360, 36, 3, 5)).toEqual([0, 3]);
  });
});

describe("drawing", () => {
  function mockCtx() {
    const calls = { stroke: 0, rect: 0, fillText: 0, dashes: [] as number[][] };
    const ctx: Ctx2D = {
      beginPath() {},
      rect() {
        calls.rect++;
      },
      stroke() {
        calls.stroke++;
      },
      fill() {},
      fillRect() {},
      strokeRect() {},
      setLineDash(d) {
        calls.dashes.push(d);
      },
      fillText() {
        calls.fillText++;
      },
      measureText: (t) => ({ width: t.length * 6 }),
      arc() {},
      strokeStyle: "",
      fillStyle: "",
      lineWidth: 1,
      globalAlpha: 1,
      font: "",
      textBaseline: "top",
      textAlign: "left",
    };
    return { ctx, calls };
  }
  const labels = ["person", "car", "traffic light"];
  const many = (n: number, off = 0) =>
    Array.from({ length: n }, (_, i) => B((i * 7) % 600, (i * 13) % 440, 20, 20, labels[(i + off) % 3]));

  it("strokes once per label colour, whatever the number of boxes", () => {
    const { ctx, calls } = mockCtx();
    const base = { view: { scale: 1, ox: 0, oy: 0 }, width: 640, height: 480, labels, selected: null, live: null, markers: new Map(), highlight: null, markerColor: "#fc0" };
    const st = drawBoxes(ctx, { ...base, boxes: many(1500), drafts: many(1500, 1) });
    expect(st.drawn).toBe(3000);
    expect(st.strokes).toBe(6); // 3 colours × (boxes, drafts)
    expect(calls.stroke).toBe(6);
    expect(calls.rect).toBe(3000);
    expect(calls.fillText).toBe(0); // no per-box labels with that many on screen
    expect(calls.dashes[0]).toEqual([6, 4]); // drafts are dashed
  });

  it("skips boxes outside the view; the overlay draws comment markers", () => {
    const { ctx, calls } = mockCtx();
    const scene = {
      view: { scale: 4, ox: 0, oy: 0 },
      width: 400,
      height: 400,
      labels,
      boxes: [B(10, 10, 5, 5), B(300, 300, 5, 5)],
      drafts: [],
      selected: null,
      live: null,
      markers: new Map([[0, [1]]]),
      highlight: 0,
      markerColor: "#fc0",
    };
    const st = drawBoxes(ctx, scene);
    expect(st.drawn).toBe(1);
    expect(calls.rect).toBe(1);
    const texts = calls.fillText;
    drawOverlay(ctx, scene);
    expect(calls.fillText).toBe(texts + 1); // the comment marker's number
  });
});
