// Pure logic of the bounding-box workspace: box geometry, hit testing, move and
// resize math, clamping to the image, the zoom/pan transform, undo history, drawing.

export interface Box {
  label: string;
  x: number;
  y: number;
  w: number;
  h: number;
  score?: number;
}

/** Image → screen transform: screen = image * scale + (ox, oy), in CSS pixels. */
export interface View {
  scale: number;
  ox: number;
  oy: number;
}

export type Handle = "nw" | "n" | "ne" | "e" | "se" | "s" | "sw" | "w";
export const HANDLES: Handle[] = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];

export const MIN_SCALE = 0.02;
export const MAX_SCALE = 40;
/** Free space (CSS px) around the image when it is fitted to the canvas. */
export const FIT_MARGIN = 12;

// ---------------------------------------------------------------- transform

export function toScreen(v: View, x: number, y: number): [number, number] {
  return [x * v.scale + v.ox, y * v.scale + v.oy];
}

export function toImage(v: View, sx: number, sy: number): [number, number] {
  return [(sx - v.ox) / v.scale, (sy - v.oy) / v.scale];
}

/** The view that shows the whole image centred in a cw×ch canvas. */
export function fitView(iw: number, ih: number, cw: number, ch: number, margin = FIT_MARGIN): View {
  if (iw <= 0 || ih <= 0 || cw <= 0 || ch <= 0) return { scale: 1, ox: 0, oy: 0 };
  const scale = clamp(Math.min((cw - 2 * margin) / iw, (ch - 2 * margin) / ih), MIN_SCALE, MAX_SCALE);
  return { scale, ox: (cw - iw * scale) / 2, oy: (ch - ih * scale) / 2 };
}

/** Zooms by `factor` around the screen point (sx, sy), which stays where it is. */
export function zoomAt(v: View, factor: number, sx: number, sy: number, min = MIN_SCALE, max = MAX_SCALE): View {
  const scale = clamp(v.scale * factor, min, max);
  const k = scale / v.scale;
  return { scale, ox: sx - (sx - v.ox) * k, oy: sy - (sy - v.oy) * k };
}

export function panBy(v: View, dx: number, dy: number): View {
  return { scale: v.scale, ox: v.ox + dx, oy: v.oy + dy };
}

/** Wheel delta (pixels or lines) → zoom factor; one notch (100 px) ≈ 16%. */
export function wheelFactor(deltaY: number, deltaMode = 0): number {
  const px = deltaMode === 1 ? deltaY * 33 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.exp(-clamp(px, -400, 400) * 0.0015);
}

// ----------------------------------------------------------------- geometry

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** A box from two corners in any order. */
export function fromCorners(label: string, x1: number, y1: number, x2: number, y2: number): Box {
  return { label, x: Math.min(x1, x2), y: Math.min(y1, y2), w: Math.abs(x2 - x1), h: Math.abs(y2 - y1) };
}

/** The same box with non-negative width and height. */
export function normalize(b: Box): Box {
  return fromCorners(b.label, b.x, b.y, b.x + b.w, b.y + b.h);
}

/** The part of the box inside the iw×ih image (may end up empty: w or h 0). */
export function clampBox(b: Box, iw: number, ih: number): Box {
  const n = normalize(b);
  const x1 = clamp(n.x, 0, iw);
  const y1 = clamp(n.y, 0, ih);
  const x2 = clamp(n.x + n.w, 0, iw);
  const y2 = clamp(n.y + n.h, 0, ih);
  return { ...n, x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}

/** Rounds coordinates to `digits` decimals (what is sent to the server). */
export function roundBox(b: Box, digits = 1): Box {
  const f = 10 ** digits;
  const r = (v: number) => Math.round(v * f) / f;
  const x = r(b.x);
  const y = r(b.y);
  return { label: b.label, x, y, w: r(r(b.x + b.w) - x), h: r(r(b.y + b.h) - y) };
}

/** A box as submitted: label and rounded coordinates only (no model score). */
export function cleanBox(b: Box): Box {
  return roundBox(b, 1);
}

export function contains(b: Box, x: number, y: number, tol = 0): boolean {
  return x >= b.x - tol && x <= b.x + b.w + tol && y >= b.y - tol && y <= b.y + b.h + tol;
}

/** True when the box overlaps the rectangle (x, y, w, h). */
export function intersects(b: Box, x: number, y: number, w: number, h: number): boolean {
  return b.x <= x + w && b.x + b.w >= x && b.y <= y + h && b.y + b.h >= y;
}

/**
 * The box under the image point (x, y): the smallest one containing it (so a
 * box inside another can be picked), the later one on ties; -1 when none.
 */
export function hitTest(boxes: readonly Box[], x: number, y: number, tol = 0): number {
  let best = -1;
  let bestArea = Infinity;
  for (let i = 0; i < boxes.length; i++) {
    const b = boxes[i];
    if (!contains(b, x, y, tol)) continue;
    const area = b.w * b.h;
    if (area <= bestArea) {
      best = i;
      bestArea = area;
    }
  }
  return best;
}

/** The handle points of a box, in image coordinates. */
export function handlePoints(b: Box): Record<Handle, [number, number]> {
  const { x, y, w, h } = b;
  const cx = x + w / 2;
  const cy = y + h / 2;
  return {
    nw: [x, y],
    n: [cx, y],
    ne: [x + w, y],
    e: [x + w, cy],
    se: [x + w, y + h],
    s: [cx, y + h],
    sw: [x, y + h],
    w: [x, cy],
  };
}

/**
 * The handle of `b` under the screen point (sx, sy) within `tol` CSS px, or
 * null. Corners win over edge midpoints; side handles are left out when the
 * box is too small on screen to tell them apart.
 */
export function hitHandle(b: Box, v: View, sx: number, sy: number, tol = 7): Handle | null {
  const pts = handlePoints(b);
  const small = Math.min(b.w, b.h) * v.scale < 4 * tol;
  let best: Handle | null = null;
  let bestD = Infinity;
  for (const hd of HANDLES) {
    if (small && hd.length === 1) continue;
    const [px, py] = toScreen(v, pts[hd][0], pts[hd][1]);
    const d = Math.max(Math.abs(px - sx), Math.abs(py - sy));
    const bias = hd.length === 2 ? 0 : 0.5;
    if (d <= tol && d + bias < bestD) {
      best = hd;
      bestD = d + bias;
    }
  }
  return best;
}

/**
 * `orig` resized by dragging handle `hd` by (dx, dy) image px. Dragging past
 * the opposite edge flips the box; the result is clamped to the iw×ih image.
 */
export function resizeBox(orig: Box, hd: Handle, dx: number, dy: number, iw: number, ih: number): Box {
  let x1 = orig.x;
  let y1 = orig.y;
  let x2 = orig.x + orig.w;
  let y2 = orig.y + orig.h;
  if (hd.includes("w")) x1 += dx;
  if (hd.includes("e")) x2 += dx;
  if (hd.includes("n")) y1 += dy;
  if (hd.includes("s")) y2 += dy;
  return clampBox(fromCorners(orig.label, x1, y1, x2, y2), iw, ih);
}

/** Which handle is being dragged once a resize has flipped the box. */
export function flippedHandle(orig: Box, hd: Handle, dx: number, dy: number): Handle {
  let v = hd.includes("n") ? "n" : hd.includes("s") ? "s" : "";
  let h = hd.includes("w") ? "w" : hd.includes("e") ? "e" : "";
  if (h === "w" && dx > orig.w) h = "e";
  else if (h === "e" && -dx > orig.w) h = "w";
  if (v === "n" && dy > orig.h) v = "s";
  else if (v === "s" && -dy > orig.h) v = "n";
  return (v + h) as Handle;
}

/** `orig` moved by (dx, dy) image px, kept whole inside the image. */
export function moveBox(orig: Box, dx: number, dy: number, iw: number, ih: number): Box {
  const w = Math.min(orig.w, iw);
  const h = Math.min(orig.h, ih);
  return { ...orig, x: clamp(orig.x + dx, 0, iw - w), y: clamp(orig.y + dy, 0, ih - h), w, h };
}

export function cursorFor(hd: Handle | null): string {
  switch (hd) {
    case "nw":
    case "se":
      return "nwse-resize";
    case "ne":
    case "sw":
      return "nesw-resize";
    case "n":
    case "s":
      return "ns-resize";
    case "e":
    case "w":
      return "ew-resize";
    default:
      return "crosshair";
  }
}

// ------------------------------------------------------------------ history

/** Undo/redo over immutable snapshots. */
export class History<T> {
  private past: T[] = [];
  private future: T[] = [];
  constructor(
    public present: T,
    private readonly limit = 500,
  ) {}
  /** Records a new state (drops whatever could have been redone). */
  push(next: T): T {
    this.past.push(this.present);
    if (this.past.length > this.limit) this.past.shift();
    this.present = next;
    this.future = [];
    return next;
  }
  undo(): T {
    const prev = this.past.pop();
    if (prev === undefined) return this.present;
    this.future.push(this.present);
    this.present = prev;
    return prev;
  }
  redo(): T {
    const next = this.future.pop();
    if (next === undefined) return this.present;
    this.past.push(this.present);
    this.present = next;
    return next;
  }
  get canUndo(): boolean {
    return this.past.length > 0;
  }
  get canRedo(): boolean {
    return this.future.length > 0;
  }
  reset(present: T): void {
    this.present = present;
    this.past = [];
    this.future = [];
  }
}

// ------------------------------------------------------------------- labels

/**
 * Label colours: saturated mid-light hues that read on photos and on both the
 * light and the dark panel (the list shows them as swatches with a border).
 */
export const PALETTE = [
  "#ff5a4e", // red
  "#2fa8ff", // blue
  "#f5b800", // amber
  "#2ecc71", // green
  "#c86bff", // violet
  "#ff8c1a", // orange
  "#00c2b8", // teal
  "#ff5fa8", // pink
  "#9acd32", // lime
];
export const UNKNOWN_COLOR = "#9aa0a6";
/** Comment markers and the reviewer's highlight: amber with dark text, on photos and in both themes. */
export const MARKER_COLOR = "#ffc83d";

export function labelColor(labels: readonly string[], label: string): string {
  const i = labels.indexOf(label);
  return i < 0 ? UNKNOWN_COLOR : PALETTE[i % PALETTE.length];
}

/** The hotkey digit of a key press (1–9) as a label index, or -1. */
export function hotkeyIndex(key: string, count: number): number {
  if (key.length !== 1 || key < "1" || key > "9") return -1;
  const i = key.charCodeAt(0) - 49;
  return i < count ? i : -1;
}

// --------------------------------------------------------------- side list

/** The rows of a virtual list to render for the scroll position. */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 8): [number, number] {
  const first = clamp(Math.floor(scrollTop / rowHeight) - overscan, 0, count);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return [first, Math.max(first, last)];
}

// ------------------------------------------------------------------ drawing

/** The part of CanvasRenderingContext2D the scene drawing uses (mockable in tests). */
export interface Ctx2D {
  beginPath(): void;
  rect(x: number, y: number, w: number, h: number): void;
  stroke(): void;
  fill(): void;
  fillRect(x: number, y: number, w: number, h: number): void;
  strokeRect(x: number, y: number, w: number, h: number): void;
  setLineDash(d: number[]): void;
  fillText(t: string, x: number, y: number): void;
  measureText(t: string): { width: number };
  arc(x: number, y: number, r: number, a0: number, a1: number): void;
  strokeStyle: string | CanvasGradient | CanvasPattern;
  fillStyle: string | CanvasGradient | CanvasPattern;
  lineWidth: number;
  globalAlpha: number;
  font: string;
  textBaseline: CanvasTextBaseline;
  textAlign: CanvasTextAlign;
}

export type Selection = { kind: "box" | "draft"; index: number } | null;

export interface Scene {
  view: View;
  width: number; // canvas size, CSS px
  height: number;
  labels: readonly string[];
  boxes: readonly Box[];
  drafts: readonly Box[];
  selected: Selection;
  /** A box being drawn, moved or resized (drawn on top instead of the original). */
  live: Box | null;
  /** Comment numbers by box index. */
  markers: ReadonlyMap<number, number[]>;
  highlight: number | null;
  markerColor: string;
}

export interface DrawStats {
  drawn: number;
  strokes: number;
}

/**
 * Draws the boxes of a scene: one path and one stroke() per label colour (and
 * one more per colour for the dashed drafts), boxes outside the view skipped.
 * The box being edited (`live` with a selection) is left out; drawOverlay
 * draws it and the rest of what changes often.
 */
export function drawBoxes(ctx: Ctx2D, s: Scene): DrawStats {
  const v = s.view;
  const [vx, vy] = toImage(v, 0, 0);
  const vw = s.width / v.scale;
  const vh = s.height / v.scale;
  const stats: DrawStats = { drawn: 0, strokes: 0 };
  const sel = s.selected;
  const hidden = (kind: "box" | "draft", i: number) => s.live !== null && sel !== null && sel.kind === kind && sel.index === i;

  const pass = (list: readonly Box[], kind: "box" | "draft") => {
    const groups = new Map<string, number[]>();
    for (let i = 0; i < list.length; i++) {
      const b = list[i];
      if (hidden(kind, i) || !intersects(b, vx, vy, vw, vh)) continue;
      const c = labelColor(s.labels, b.label);
      let g = groups.get(c);
      if (!g) groups.set(c, (g = []));
      g.push(i);
    }
    for (const [color, idx] of groups) {
      ctx.beginPath();
      for (const i of idx) {
        const b = list[i];
        // Snap to the half pixel so 1px lines stay crisp.
        const x = Math.round(b.x * v.scale + v.ox) + 0.5;
        const y = Math.round(b.y * v.scale + v.oy) + 0.5;
        const x2 = Math.round((b.x + b.w) * v.scale + v.ox) + 0.5;
        const y2 = Math.round((b.y + b.h) * v.scale + v.oy) + 0.5;
        ctx.rect(x, y, x2 - x, y2 - y);
      }
      ctx.strokeStyle = color;
      ctx.stroke();
      stats.strokes++;
      stats.drawn += idx.length;
    }
  };

  ctx.setLineDash([6, 4]);
  ctx.lineWidth = 1.5;
  ctx.globalAlpha = 0.9;
  pass(s.drafts, "draft");
  ctx.setLineDash([]);
  ctx.globalAlpha = 1;
  ctx.lineWidth = 2;
  pass(s.boxes, "box");

  // Labels: only when few boxes are on screen (text is the costly part).
  if (stats.drawn <= 150) {
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    for (let i = 0; i < s.boxes.length; i++) {
      const b = s.boxes[i];
      if ((sel?.kind === "box" && sel.index === i) || !intersects(b, vx, vy, vw, vh) || b.w * v.scale < 24) continue;
      tag(ctx, s, b, `${i + 1} ${b.label}`);
    }
  }
  return stats;
}

/**
 * Draws what changes without the boxes changing: the highlighted (reviewer)
 * box, the selection with its handles, the box being edited, comment markers.
 */
export function drawOverlay(ctx: Ctx2D, s: Scene): void {
  const v = s.view;
  const sel = s.selected;
  if (s.highlight !== null && s.boxes[s.highlight]) {
    const b = s.boxes[s.highlight];
    const [x, y] = toScreen(v, b.x, b.y);
    ctx.lineWidth = 6;
    ctx.globalAlpha = 0.45;
    ctx.strokeStyle = s.markerColor;
    ctx.strokeRect(x - 3, y - 3, b.w * v.scale + 6, b.h * v.scale + 6);
    ctx.globalAlpha = 1;
  }
  const selBox = s.live ?? (sel ? (sel.kind === "box" ? s.boxes : s.drafts)[sel.index] : undefined);
  if (selBox) {
    const [x, y] = toScreen(v, selBox.x, selBox.y);
    const color = labelColor(s.labels, selBox.label);
    ctx.setLineDash(sel?.kind === "draft" && !s.live ? [6, 4] : []);
    ctx.globalAlpha = 0.15;
    ctx.fillStyle = color;
    ctx.fillRect(x, y, selBox.w * v.scale, selBox.h * v.scale);
    ctx.globalAlpha = 1;
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = color;
    ctx.strokeRect(x, y, selBox.w * v.scale, selBox.h * v.scale);
    ctx.setLineDash([]);
    ctx.lineWidth = 1;
    const pts = handlePoints(selBox);
    for (const hd of HANDLES) {
      const [hx, hy] = toScreen(v, pts[hd][0], pts[hd][1]);
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(hx - 4, hy - 4, 8, 8);
      ctx.strokeStyle = "#1d1f21";
      ctx.strokeRect(hx - 4, hy - 4, 8, 8);
    }
    const name = sel?.kind === "box" ? `${sel.index + 1} ${selBox.label}` : sel?.kind === "draft" && !s.live ? `draft: ${selBox.label}` : selBox.label;
    tag(ctx, s, selBox, name);
  }

  // Numbered comment markers at the top-left corner of their boxes.
  for (const [i, nums] of s.markers) {
    const b = s.boxes[i];
    if (!b) continue;
    const [x, y] = toScreen(v, b.x, b.y);
    ctx.font = "bold 12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    ctx.textAlign = "center";
    nums.forEach((n, k) => {
      const cx = x + b.w * v.scale - 11 - k * 22; // top-right corner: the label tag is top-left
      const cy = y - 11 < 11 ? y + 11 : y - 11;
      ctx.beginPath();
      ctx.arc(cx, cy, 10, 0, Math.PI * 2);
      ctx.fillStyle = s.markerColor;
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#1d1f21";
      ctx.stroke();
      ctx.fillStyle = "#1d1f21";
      ctx.fillText(String(n), cx, cy);
    });
    ctx.textAlign = "left";
  }
}

/** The view moved to whole device pixels (so a cached layer is copied, not resampled). */
export function snapView(v: View, dpr: number): View {
  return { scale: v.scale, ox: Math.round(v.ox * dpr) / dpr, oy: Math.round(v.oy * dpr) / dpr };
}

function tag(ctx: Ctx2D, s: Scene, b: Box, text: string): void {
  const v = s.view;
  const [x, y] = toScreen(v, b.x, b.y);
  ctx.font = "12px system-ui, sans-serif";
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  const w = ctx.measureText(text).width + 6;
  const ty = y >= 16 ? y - 16 : y;
  ctx.fillStyle = labelColor(s.labels, b.label);
  ctx.fillRect(x, ty, w, 16);
  ctx.fillStyle = "#111111";
  ctx.fillText(text, x + 3, ty + 2);
}
