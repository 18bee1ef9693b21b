// The bounding-box workspace: draw, select, move, resize, label and delete boxes on
// one <canvas>, with zoom/pan, model drafts to accept, undo/redo and a side list.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { Api, ApiError } from "../api";
import { ErrorBox } from "../components";
import {
  cleanBox,
  clampBox,
  cursorFor,
  drawBoxes,
  drawOverlay,
  fitView,
  fromCorners,
  hitHandle,
  hitTest,
  History,
  hotkeyIndex,
  labelColor,
  MARKER_COLOR,
  moveBox,
  panBy,
  resizeBox,
  snapView,
  toImage,
  visibleRange,
  wheelFactor,
  zoomAt,
  type Box,
  type Handle,
  type Selection,
  type View,
} from "../lib/boxes";
import { asApiError, isTyping, useKeys } from "../lib/hooks";
import type { WorkspaceProps } from "./types";
import "./bbox.css";

interface Doc {
  boxes: Box[];
  drafts: Box[];
}

type Drag =
  | { mode: "pan"; sx: number; sy: number; view0: View }
  | { mode: "draw"; x0: number; y0: number; sx0: number; sy0: number }
  | { mode: "move"; kind: "box" | "draft"; index: number; orig: Box; x0: number; y0: number; sx0: number; sy0: number; moved: boolean }
  | { mode: "resize"; kind: "box" | "draft"; index: number; orig: Box; handle: Handle; x0: number; y0: number; moved: boolean };

/** Side-list rows are virtualised above this many boxes. */
const LIST_CAP = 200;
const ROW_H = 36;
/** Smallest box drawn by a drag, in CSS px on screen. */
const MIN_DRAG = 4;
/** Free space around the cached image layer (for strokes on the image edge), CSS px. */
const LAYER_PAD = 4;
/** The cached layer is used up to this many device pixels (16 M: 64 MB). */
const LAYER_MAX_PIXELS = 16_000_000;

function asBoxes(v: unknown): Box[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((b) => b && typeof b === "object")
    .map((b) => ({ label: String(b.label ?? ""), x: Number(b.x) || 0, y: Number(b.y) || 0, w: Number(b.w) || 0, h: Number(b.h) || 0 }));
}

function initialDoc(p: WorkspaceProps): Doc {
  const boxes = asBoxes(p.value?.boxes);
  const drafts =
    p.readOnly || boxes.length > 0 ? [] : (p.task.preannotations ?? []).flatMap((pre) => asBoxes(pre.result?.boxes));
  return { boxes, drafts };
}

export function BboxWorkspace(props: WorkspaceProps) {
  const { pool, task, readOnly = false } = props;
  const labels = useMemo(() => (pool.config?.labels ?? []).map(String), [pool.config]);
  const iwData = Number(task.data.width) || 0;
  const ihData = Number(task.data.height) || 0;

  // ---- document (boxes + drafts) with undo history
  const hist = useRef<History<Doc> | null>(null);
  if (!hist.current) hist.current = new History<Doc>(initialDoc(props));
  const [doc, setDoc] = useState<Doc>(hist.current.present);
  const [sel, setSel] = useState<Selection>(null);
  const [label, setLabel] = useState(0);
  const [highlight, setHighlight] = useState<number | null>(null);
  const lastSent = useRef<unknown>(props.value?.boxes);
  // Every boxes array this workspace has sent up: the page echoes them back
  // as props.value, possibly after a later edit (an undo then a quick redo
  // used to see the undo's echo arrive after the redo, reset the history
  // and lose the redo).
  const sent = useRef(new WeakSet<object>());
  const taskId = useRef(task.id);

  // A new task, or a value changed by the page: start over from it.
  useEffect(() => {
    const newTask = taskId.current !== task.id;
    const echoed = props.value?.boxes;
    const ours = echoed === lastSent.current || (typeof echoed === "object" && echoed !== null && sent.current.has(echoed));
    if (!newTask && ours) return;
    taskId.current = task.id;
    lastSent.current = props.value?.boxes;
    const d = newTask ? initialDoc(props) : { boxes: asBoxes(props.value?.boxes), drafts: hist.current!.present.drafts };
    hist.current!.reset(d);
    setDoc(d);
    setSel(null);
    setHighlight(null);
    if (newTask) userMoved.current = false;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [task.id, props.value]);

  const docRef = useRef(doc);
  docRef.current = doc;
  const selRef = useRef(sel);
  selRef.current = sel;

  function apply(next: Doc, nextSel: Selection) {
    const before = docRef.current;
    docRef.current = next;
    setDoc(next);
    setSel(nextSel);
    selRef.current = nextSel;
    if (next.boxes !== before.boxes && !readOnly) {
      lastSent.current = next.boxes;
      sent.current.add(next.boxes);
      props.onChange({ boxes: next.boxes });
    }
    requestDraw();
  }
  function commit(next: Doc, nextSel: Selection) {
    if (readOnly) return;
    hist.current!.push(next);
    apply(next, nextSel);
  }
  function undo() {
    if (readOnly || !hist.current!.canUndo) return;
    apply(hist.current!.undo(), null);
  }
  function redo() {
    if (readOnly || !hist.current!.canRedo) return;
    apply(hist.current!.redo(), null);
  }

  // ---- edits (image size from the task, else from the loaded image)
  const imgRef = useRef<HTMLImageElement | null>(null);
  const iw = iwData || imgRef.current?.naturalWidth || 0;
  const ih = ihData || imgRef.current?.naturalHeight || 0;

  function addBox(b: Box) {
    const d = docRef.current;
    commit({ ...d, boxes: [...d.boxes, cleanBox(b)] }, { kind: "box", index: d.boxes.length });
  }
  function replaceBox(i: number, b: Box, keepSel = true) {
    const d = docRef.current;
    const boxes = d.boxes.slice();
    boxes[i] = cleanBox(b);
    commit({ ...d, boxes }, keepSel ? { kind: "box", index: i } : selRef.current);
  }
  /** Turns draft `i` (possibly adjusted) into a box and selects it. */
  function acceptDraft(i: number, adjusted?: Box) {
    const d = docRef.current;
    const b = adjusted ?? d.drafts[i];
    if (!b) return;
    const drafts = d.drafts.slice();
    drafts.splice(i, 1);
    commit({ boxes: [...d.boxes, cleanBox(clampBox(b, iw, ih))], drafts }, { kind: "box", index: d.boxes.length });
  }
  function acceptAll() {
    const d = docRef.current;
    if (d.drafts.length === 0) return;
    const accepted = d.drafts.map((b) => cleanBox(clampBox(b, iw, ih))).filter((b) => b.w > 0 && b.h > 0);
    commit({ boxes: [...d.boxes, ...accepted], drafts: [] }, null);
  }
  function deleteSelected() {
    const s = selRef.current;
    if (!s) return;
    const d = docRef.current;
    if (s.kind === "box") {
      const boxes = d.boxes.slice();
      boxes.splice(s.index, 1);
      commit({ ...d, boxes }, null);
    } else {
      const drafts = d.drafts.slice();
      drafts.splice(s.index, 1);
      commit({ ...d, drafts }, null);
    }
  }
  function deleteBox(i: number) {
    const d = docRef.current;
    const boxes = d.boxes.slice();
    boxes.splice(i, 1);
    commit({ ...d, boxes }, null);
  }
  function relabel(i: number, l: string) {
    const b = docRef.current.boxes[i];
    if (b && b.label !== l) replaceBox(i, { ...b, label: l });
  }
  function chooseLabel(i: number) {
    setLabel(i);
    const s = selRef.current;
    if (readOnly || !s) return;
    if (s.kind === "box") relabel(s.index, labels[i]);
    else acceptDraft(s.index, { ...docRef.current.drafts[s.index], label: labels[i] });
  }
  function nudge(dx: number, dy: number) {
    const s = selRef.current;
    if (!s) return;
    const d = docRef.current;
    if (s.kind === "box") replaceBox(s.index, moveBox(d.boxes[s.index], dx, dy, iw, ih));
    else acceptDraft(s.index, moveBox(d.drafts[s.index], dx, dy, iw, ih));
  }
  function select(s: Selection) {
    setSel(s);
    selRef.current = s;
    if (s?.kind === "box") {
      if (readOnly) setHighlight(s.index);
      props.onAnchor?.({ box: s.index });
      scrollListTo(s.index);
    } else if (!s && readOnly) props.onAnchor?.(null);
    requestDraw();
  }

  // ---- image
  const [imgState, setImgState] = useState<"loading" | "ok" | "error">("loading");
  const [imgError, setImgError] = useState<ApiError | string | null>(null);
  const [imgTry, setImgTry] = useState(0);
  useEffect(() => {
    let live = true;
    let url: string | null = null;
    const ctl = new AbortController();
    imgRef.current = null;
    setImgState("loading");
    setImgError(null);
    const show = (src: string) => {
      const im = new Image();
      im.onload = () => {
        if (!live) return;
        imgRef.current = im;
        setImgState("ok");
        requestDraw();
      };
      im.onerror = () => {
        if (!live) return;
        setImgState("error");
        setImgError("The image could not be shown (not a readable image).");
      };
      im.src = src;
    };
    Api.taskImage(task, ctl.signal)
      .then((blob) => {
        if (!live) return;
        url = URL.createObjectURL(blob);
        show(url);
      })
      .catch((e) => {
        if (!live || (e as Error).name === "AbortError") return;
        const src = String(task.data.image ?? "");
        // A remote image whose host does not allow our fetch: show it directly.
        if (/^https?:\/\//.test(src) && (e as ApiError).status === 0) return show(src);
        setImgState("error");
        setImgError(asApiError(e));
      });
    return () => {
      live = false;
      ctl.abort();
      if (url) URL.revokeObjectURL(url);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [task.id, imgTry]);

  // ---- canvas, view and drawing
  const stageRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const zoomRef = useRef<HTMLOutputElement>(null);
  const view = useRef<View>({ scale: 1, ox: 0, oy: 0 });
  const size = useRef({ w: 0, h: 0, dpr: 1 });
  const userMoved = useRef(false);
  const drag = useRef<Drag | null>(null);
  const live = useRef<Box | null>(null);
  const space = useRef(false);
  const raf = useRef(0);
  const layer = useRef<{ canvas: HTMLCanvasElement; key: unknown[] } | null>(null);
  const colors = useRef({ marker: MARKER_COLOR, bg: "#888" });
  const [stageH, setStageH] = useState(480);

  const markers = useMemo(() => {
    const m = new Map<number, number[]>();
    let n = 0;
    for (const c of props.comments ?? []) {
      const a = c.anchor;
      if (a && "box" in a) {
        n++;
        const list = m.get(a.box) ?? [];
        list.push(n);
        m.set(a.box, list);
      }
    }
    return m;
  }, [props.comments]);
  const markersRef = useRef(markers);
  markersRef.current = markers;
  const highlightRef = useRef(highlight);
  highlightRef.current = highlight;

  function requestDraw() {
    if (!raf.current) raf.current = requestAnimationFrame(draw);
  }
  /** The view as drawn and as pointer positions are mapped (snapped to device pixels). */
  function cur(): View {
    return snapView(view.current, size.current.dpr);
  }
  function draw() {
    raf.current = 0;
    const c = canvasRef.current;
    const ctx = c?.getContext("2d");
    if (!c || !ctx) return;
    const { w, h, dpr } = size.current;
    const v = cur();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, c.width, c.height);
    const im = imgRef.current;
    const imW = iw || im?.naturalWidth || 0;
    const imH = ih || im?.naturalHeight || 0;
    const d = docRef.current;
    const scene = {
      view: v,
      width: w,
      height: h,
      labels,
      boxes: d.boxes,
      drafts: d.drafts,
      selected: selRef.current,
      live: live.current,
      markers: markersRef.current,
      highlight: highlightRef.current,
      markerColor: colors.current.marker,
    };
    const paintImage = (g: CanvasRenderingContext2D, x: number, y: number) => {
      g.imageSmoothingEnabled = v.scale < 3;
      if (im) g.drawImage(im, x, y, imW * v.scale, imH * v.scale);
      else {
        g.fillStyle = colors.current.bg;
        g.fillRect(x, y, imW * v.scale, imH * v.scale);
      }
    };
    // The image with its boxes is drawn once per zoom level and edit into an
    // offscreen layer; panning then only copies that layer (when it is not huge).
    const lw = Math.ceil((imW * v.scale + 2 * LAYER_PAD) * dpr);
    const lh = Math.ceil((imH * v.scale + 2 * LAYER_PAD) * dpr);
    if (lw * lh <= LAYER_MAX_PIXELS && lw <= 8192 && lh <= 8192) {
      const s = selRef.current;
      const key = [v.scale, dpr, lw, lh, im, d.boxes, d.drafts, labels, live.current && s ? `${s.kind}${s.index}` : "", s?.kind === "box" ? s.index : -1];
      let L = layer.current;
      if (!L || L.key.length !== key.length || L.key.some((k, i) => k !== key[i])) {
        const canvas = L?.canvas ?? document.createElement("canvas");
        canvas.width = lw;
        canvas.height = lh;
        const g = canvas.getContext("2d")!;
        g.setTransform(dpr, 0, 0, dpr, 0, 0);
        paintImage(g, LAYER_PAD, LAYER_PAD);
        drawBoxes(g, { ...scene, view: { scale: v.scale, ox: LAYER_PAD, oy: LAYER_PAD }, width: lw / dpr, height: lh / dpr });
        L = layer.current = { canvas, key };
      }
      ctx.drawImage(L.canvas, Math.round((v.ox - LAYER_PAD) * dpr), Math.round((v.oy - LAYER_PAD) * dpr));
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    } else {
      layer.current = null;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      paintImage(ctx, v.ox, v.oy);
      drawBoxes(ctx, scene);
    }
    drawOverlay(ctx, scene);
    if (zoomRef.current) zoomRef.current.textContent = `${Math.round(v.scale * 100)}%`;
  }
  function setView(v: View, byUser = true) {
    view.current = v;
    if (byUser) userMoved.current = true;
    requestDraw();
  }
  function fit() {
    const { w, h } = size.current;
    const im = imgRef.current;
    setView(fitView(iw || im?.naturalWidth || 0, ih || im?.naturalHeight || 0, w, h), false);
    userMoved.current = false;
  }
  function zoomBy(f: number) {
    setView(zoomAt(view.current, f, size.current.w / 2, size.current.h / 2));
  }

  // Stage height: the rest of the window below the stage's top (min 320 px).
  useLayoutEffect(() => {
    const measure = () => {
      const el = stageRef.current;
      if (!el) return;
      const top = el.getBoundingClientRect().top + window.scrollY;
      setStageH(Math.max(320, Math.round(window.innerHeight - top - 12)));
    };
    measure();
    window.addEventListener("resize", measure);
    return () => window.removeEventListener("resize", measure);
  }, []);

  // Canvas backing store follows the stage size and the device pixel ratio.
  useEffect(() => {
    const stage = stageRef.current;
    const c = canvasRef.current;
    if (!stage || !c) return;
    const resize = () => {
      const r = stage.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, Math.floor(r.width));
      const h = Math.max(1, Math.floor(r.height));
      size.current = { w, h, dpr };
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
      const cs = getComputedStyle(stage);
      colors.current = { marker: MARKER_COLOR, bg: cs.getPropertyValue("--border").trim() || "#888" };
      if (!userMoved.current) fit();
      requestDraw();
    };
    resize();
    const ro = new ResizeObserver(resize);
    ro.observe(stage);
    const mq = window.matchMedia("(prefers-color-scheme: dark)");
    mq.addEventListener("change", resize);
    return () => {
      ro.disconnect();
      mq.removeEventListener("change", resize);
      if (raf.current) cancelAnimationFrame(raf.current);
      raf.current = 0;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Refit when the image (or its size) arrives, unless the user moved the view.
  useEffect(() => {
    if (!userMoved.current) fit();
    requestDraw();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [imgState, iw, ih, task.id]);
  useEffect(requestDraw, [doc, sel, highlight, markers, labels]);

  // Wheel zoom around the cursor (a non-passive listener so the page does not scroll).
  useEffect(() => {
    const c = canvasRef.current;
    if (!c) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = c.getBoundingClientRect();
      setView(zoomAt(view.current, wheelFactor(e.deltaY, e.deltaMode), e.clientX - r.left, e.clientY - r.top));
    };
    c.addEventListener("wheel", onWheel, { passive: false });
    return () => c.removeEventListener("wheel", onWheel);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // ---- pointer
  function local(e: PointerEvent): [number, number] {
    const r = canvasRef.current!.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }
  function setCursor(c: string) {
    const el = canvasRef.current;
    if (el && el.style.cursor !== c) el.style.cursor = c;
  }
  function hover(sx: number, sy: number) {
    if (space.current) return setCursor("grab");
    if (readOnly) return setCursor("default");
    const s = selRef.current;
    const d = docRef.current;
    const b = s ? (s.kind === "box" ? d.boxes : d.drafts)[s.index] : undefined;
    const v = cur();
    const hd = b ? hitHandle(b, v, sx, sy) : null;
    if (hd) return setCursor(cursorFor(hd));
    const [x, y] = toImage(v, sx, sy);
    const tol = 2 / v.scale;
    setCursor(hitTest(d.boxes, x, y, tol) >= 0 || hitTest(d.drafts, x, y, tol) >= 0 ? "move" : "crosshair");
  }

  function onPointerDown(e: PointerEvent) {
    const c = canvasRef.current!;
    c.focus({ preventScroll: true });
    const [sx, sy] = local(e);
    if (e.button === 1 || (e.button === 0 && space.current)) {
      e.preventDefault();
      c.setPointerCapture(e.pointerId);
      drag.current = { mode: "pan", sx, sy, view0: view.current };
      setCursor("grabbing");
      return;
    }
    if (e.button !== 0) return;
    const v = cur();
    const [x, y] = toImage(v, sx, sy);
    const d = docRef.current;
    const tol = 2 / v.scale;
    if (readOnly) {
      const i = hitTest(d.boxes, x, y, tol);
      if (i < 0) setHighlight(null);
      select(i >= 0 ? { kind: "box", index: i } : null);
      return;
    }
    c.setPointerCapture(e.pointerId);
    const s = selRef.current;
    const selBox = s ? (s.kind === "box" ? d.boxes : d.drafts)[s.index] : undefined;
    const hd = selBox ? hitHandle(selBox, v, sx, sy) : null;
    if (s && selBox && hd) {
      drag.current = { mode: "resize", kind: s.kind, index: s.index, orig: selBox, handle: hd, x0: x, y0: y, moved: false };
      return;
    }
    let i = hitTest(d.boxes, x, y, tol);
    let kind: "box" | "draft" = "box";
    // Keep the selected box when clicking inside it even if a smaller one is there too.
    if (s && selBox && selBox.w * selBox.h > 0 && x >= selBox.x && x <= selBox.x + selBox.w && y >= selBox.y && y <= selBox.y + selBox.h) {
      i = s.index;
      kind = s.kind;
    } else if (i < 0) {
      i = hitTest(d.drafts, x, y, tol);
      kind = "draft";
    }
    if (i >= 0) {
      const orig = (kind === "box" ? d.boxes : d.drafts)[i];
      select({ kind, index: i });
      drag.current = { mode: "move", kind, index: i, orig, x0: x, y0: y, sx0: sx, sy0: sy, moved: false };
      return;
    }
    select(null);
    drag.current = { mode: "draw", x0: x, y0: y, sx0: sx, sy0: sy };
  }

  function onPointerMove(e: PointerEvent) {
    const [sx, sy] = local(e);
    const g = drag.current;
    if (!g) return hover(sx, sy);
    if (g.mode === "pan") {
      setView(panBy(g.view0, sx - g.sx, sy - g.sy));
      return;
    }
    const [x, y] = toImage(cur(), sx, sy);
    if (g.mode === "draw") {
      live.current = clampBox(fromCorners(labels[label] ?? "", g.x0, g.y0, x, y), iw, ih);
    } else if (g.mode === "move") {
      if (!g.moved && Math.max(Math.abs(sx - g.sx0), Math.abs(sy - g.sy0)) < 3) return;
      g.moved = true;
      live.current = moveBox(g.orig, x - g.x0, y - g.y0, iw, ih);
    } else {
      g.moved = true;
      live.current = resizeBox(g.orig, g.handle, x - g.x0, y - g.y0, iw, ih);
      setCursor(cursorFor(g.handle));
    }
    requestDraw();
  }

  function onPointerUp(e: PointerEvent) {
    const g = drag.current;
    drag.current = null;
    const b = live.current;
    live.current = null;
    const c = canvasRef.current;
    if (c?.hasPointerCapture(e.pointerId)) c.releasePointerCapture(e.pointerId);
    if (!g) return;
    const [sx, sy] = local(e);
    if (g.mode === "pan") {
      setCursor(space.current ? "grab" : "crosshair");
      return;
    }
    if (g.mode === "draw") {
      const big = Math.abs(sx - g.sx0) >= MIN_DRAG && Math.abs(sy - g.sy0) >= MIN_DRAG;
      if (big && b && b.w >= 1 && b.h >= 1) addBox(b);
      else select(null);
    } else if (b && g.moved && b.w > 0 && b.h > 0) {
      if (g.kind === "box") replaceBox(g.index, b);
      else acceptDraft(g.index, b);
    }
    requestDraw();
    hover(sx, sy);
  }

  // ---- keyboard
  useKeys(
    (e) => {
      if (isTyping(e)) return;
      const tag = (e.target as HTMLElement | null)?.tagName;
      const k = e.key;
      const mod = e.ctrlKey || e.metaKey;
      if (mod && !e.altKey) {
        const lk = k.toLowerCase();
        if (lk === "z" && !e.shiftKey) {
          e.preventDefault();
          undo();
        } else if ((lk === "z" && e.shiftKey) || lk === "y") {
          e.preventDefault();
          redo();
        }
        return; // Ctrl+Enter and the like belong to the page.
      }
      if (e.altKey || tag === "SELECT") return;
      if (k === " " || k === "Enter") {
        if (tag === "BUTTON" || tag === "A" || k === "Enter") return;
        e.preventDefault();
        if (!space.current) {
          space.current = true;
          if (!drag.current) setCursor("grab");
        }
        return;
      }
      const li = hotkeyIndex(k, labels.length);
      if (li >= 0) {
        e.preventDefault();
        chooseLabel(li);
        return;
      }
      const s = selRef.current;
      const step = e.shiftKey ? 10 : 1;
      switch (k) {
        case "Escape":
          if (drag.current) {
            drag.current = null;
            live.current = null;
          } else select(null);
          requestDraw();
          return;
        case "Delete":
        case "Backspace":
          if (readOnly || !s) return;
          e.preventDefault();
          deleteSelected();
          return;
        case "a":
          if (readOnly || s?.kind !== "draft") return;
          e.preventDefault();
          acceptDraft(s.index);
          return;
        case "A":
          if (readOnly) return;
          e.preventDefault();
          acceptAll();
          return;
        case "f":
        case "0":
          e.preventDefault();
          fit();
          return;
        case "+":
        case "=":
          zoomBy(1.25);
          return;
        case "-":
          zoomBy(0.8);
          return;
        case "ArrowLeft":
        case "ArrowRight":
        case "ArrowUp":
        case "ArrowDown": {
          if (readOnly || !s || tag === "BUTTON") return;
          e.preventDefault();
          const dx = k === "ArrowLeft" ? -step : k === "ArrowRight" ? step : 0;
          const dy = k === "ArrowUp" ? -step : k === "ArrowDown" ? step : 0;
          nudge(dx, dy);
          return;
        }
        case "[":
        case "]": {
          const n = docRef.current.boxes.length;
          if (n === 0) return;
          const cur = s?.kind === "box" ? s.index : k === "]" ? -1 : n;
          select({ kind: "box", index: (cur + (k === "]" ? 1 : -1) + n) % n });
          return;
        }
      }
    },
    [labels, readOnly, iw, ih, label],
  );
  useEffect(() => {
    const up = (e: KeyboardEvent) => {
      if (e.key === " " && space.current) {
        space.current = false;
        if (!drag.current) setCursor("crosshair");
      }
    };
    const blur = () => (space.current = false);
    window.addEventListener("keyup", up);
    window.addEventListener("blur", blur);
    return () => {
      window.removeEventListener("keyup", up);
      window.removeEventListener("blur", blur);
    };
  }, []);

  // ---- side list (virtualised above LIST_CAP rows)
  const listRef = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [listH, setListH] = useState(300);
  const virtual = doc.boxes.length > LIST_CAP;
  useEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setListH(el.clientHeight || 300));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  function scrollListTo(i: number) {
    const el = listRef.current;
    if (!el) return;
    const top = i * ROW_H;
    if (top < el.scrollTop || top + ROW_H > el.scrollTop + el.clientHeight) {
      el.scrollTop = Math.max(0, top - el.clientHeight / 2);
      setScrollTop(el.scrollTop);
    }
  }
  const [first, last] = virtual ? visibleRange(scrollTop, listH, ROW_H, doc.boxes.length) : [0, doc.boxes.length];

  function focusComment(box: number) {
    setHighlight(box);
    select({ kind: "box", index: box });
    // Bring the box into view when it is off screen.
    const b = docRef.current.boxes[box];
    if (b) {
      const v = view.current;
      const { w, h } = size.current;
      const [x, y] = [b.x * v.scale + v.ox, b.y * v.scale + v.oy];
      if (x < 0 || y < 0 || x + b.w * v.scale > w || y + b.h * v.scale > h) {
        setView(panBy(v, w / 2 - (x + (b.w * v.scale) / 2), h / 2 - (y + (b.h * v.scale) / 2)));
      }
    }
  }

  const hist_ = hist.current!;
  const selDraft = sel?.kind === "draft" ? doc.drafts[sel.index] : undefined;
  const anchored = (props.comments ?? []).filter((c) => c.anchor && "box" in c.anchor);
  const other = (props.comments ?? []).filter((c) => !(c.anchor && "box" in c.anchor));

  return (
    <div class={`bbox ${readOnly ? "readonly" : ""}`}>
      <div class="bbox-stage" ref={stageRef} style={{ height: `${stageH}px` }}>
        <canvas
          ref={canvasRef}
          class="bbox-canvas"
          tabIndex={0}
          role="img"
          aria-label="Image with boxes"
          aria-describedby="bbox-legend"
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={onPointerUp}
          onAuxClick={(e) => e.preventDefault()}
          onContextMenu={(e) => e.preventDefault()}
        />
        {imgState === "loading" && (
          <p class="bbox-overlay muted" role="status">
            Loading image…
          </p>
        )}
        {imgState === "error" && (
          <div class="bbox-overlay">
            <ErrorBox error={imgError} onRetry={() => setImgTry((t) => t + 1)} />
          </div>
        )}
      </div>

      <aside class="bbox-side" aria-label="Boxes and labels" style={{ height: `${stageH}px` }}>
        <div class="bbox-status row between">
          <span role="status" class="bbox-counts">
            <strong>{`${doc.boxes.length} ${doc.boxes.length === 1 ? "box" : "boxes"}`}</strong>
            {doc.drafts.length > 0 && <span class="muted">{`${doc.drafts.length} ${doc.drafts.length === 1 ? "draft" : "drafts"}`}</span>}
          </span>
          <span class="row bbox-zoom">
            <button type="button" onClick={() => zoomBy(0.8)} aria-label="Zoom out" title="Zoom out (-)">
              −
            </button>
            <output ref={zoomRef} aria-label="Zoom level" class="bbox-zoom-value">
              100%
            </output>
            <button type="button" onClick={() => zoomBy(1.25)} aria-label="Zoom in" title="Zoom in (+)">
              +
            </button>
            <button type="button" onClick={fit} title="Fit the image (F)">
              Fit
            </button>
          </span>
        </div>

        {!readOnly && (
          <>
            <div class="row">
              <button type="button" onClick={undo} disabled={!hist_.canUndo} title="Undo (Ctrl+Z)">
                Undo
              </button>
              <button type="button" onClick={redo} disabled={!hist_.canRedo} title="Redo (Ctrl+Shift+Z)">
                Redo
              </button>
            </div>
            <div role="group" aria-label="Label" class="bbox-labels">
              {labels.map((l, i) => (
                <button
                  type="button"
                  key={l}
                  aria-pressed={i === label}
                  onClick={() => chooseLabel(i)}
                  title={sel ? `Label the selected box "${l}" (${i + 1})` : `New boxes: ${l} (${i + 1})`}
                >
                  <span class="bbox-swatch" style={{ background: labelColor(labels, l) }} />
                  {i < 9 && <kbd>{i + 1}</kbd>} {l}
                </button>
              ))}
            </div>
            {(doc.drafts.length > 0 || selDraft) && (
              <div class="bbox-drafts row">
                <button type="button" disabled={!selDraft} onClick={() => sel && acceptDraft(sel.index)} title="Accept the selected draft (A)">
                  Accept draft
                </button>
                <button type="button" disabled={!selDraft} class="danger" onClick={deleteSelected} title="Delete the selected draft (Delete)">
                  Delete draft
                </button>
                <button type="button" class="primary" onClick={acceptAll} title="Accept all drafts (Shift+A)">
                  Accept all drafts ({doc.drafts.length})
                </button>
              </div>
            )}
          </>
        )}

        {anchored.length + other.length > 0 && (
          <section aria-label="Comments" class="bbox-comments">
            {anchored.map((c, n) => {
              const box = (c.anchor as { box: number }).box;
              return (
                <button type="button" class="comment bbox-comment" key={`a${n}`} onClick={() => focusComment(box)} aria-pressed={highlight === box}>
                  <span class="bbox-marker">{n + 1}</span> Comment on box {box + 1}: {c.text}
                </button>
              );
            })}
            {other.map((c, n) => (
              <p class="comment" key={`o${n}`}>
                {c.text}
              </p>
            ))}
          </section>
        )}

        <div
          class="bbox-list"
          ref={listRef}
          role="list"
          aria-label="Boxes"
          onScroll={(e) => virtual && setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}
        >
          {doc.boxes.length === 0 && <p class="muted bbox-empty">No boxes yet: drag on the image to draw one.</p>}
          <div style={virtual ? { height: `${doc.boxes.length * ROW_H}px`, position: "relative" } : undefined}>
            {doc.boxes.slice(first, last).map((b, k) => {
              const i = first + k;
              const current = sel?.kind === "box" && sel.index === i;
              return (
                <div
                  role="listitem"
                  key={i}
                  class={`bbox-row ${current ? "selected" : ""} ${highlight === i ? "highlight" : ""}`}
                  style={virtual ? { position: "absolute", top: `${i * ROW_H}px`, left: 0, right: 0 } : undefined}
                  onClick={(e) => {
                    const t = (e.target as HTMLElement).tagName;
                    if (t !== "SELECT" && t !== "BUTTON" && t !== "OPTION") select({ kind: "box", index: i });
                  }}
                >
                  <span class="bbox-swatch" style={{ background: labelColor(labels, b.label) }} />
                  <span class="bbox-name">Box {i + 1}</span>
                  {markers.has(i) && <span class="bbox-marker" title="Has a comment">{markers.get(i)!.join(",")}</span>}
                  {readOnly ? (
                    <span class="bbox-label-text">{b.label}</span>
                  ) : (
                    <select
                      aria-label={`Box ${i + 1} label`}
                      value={b.label}
                      onFocus={() => !current && select({ kind: "box", index: i })}
                      onChange={(e) => relabel(i, (e.currentTarget as HTMLSelectElement).value)}
                    >
                      {!labels.includes(b.label) && <option value={b.label}>{b.label || "(none)"}</option>}
                      {labels.map((l) => (
                        <option key={l} value={l}>
                          {l}
                        </option>
                      ))}
                    </select>
                  )}
                  <span class="bbox-size muted">
                    {Math.round(b.w)}×{Math.round(b.h)}
                  </span>
                  {!readOnly && (
                    <button type="button" class="bbox-del" aria-label={`Delete box ${i + 1}`} onClick={() => deleteBox(i)}>
                      ×
                    </button>
                  )}
                </div>
              );
            })}
          </div>
        </div>

        <p class="hint bbox-legend" id="bbox-legend">
          {readOnly ? (
            <>
              Click a box to comment on it · <kbd>Wheel</kbd> zoom · <kbd>Space</kbd>+drag pan · <kbd>F</kbd> fit
            </>
          ) : (
            <>
              Drag to draw · <kbd>1</kbd>–<kbd>9</kbd> label · <kbd>Del</kbd> delete · <kbd>A</kbd> accept draft,{" "}
              <kbd>Shift+A</kbd> all · <kbd>Ctrl+Z</kbd> undo, <kbd>Ctrl+Shift+Z</kbd> redo · <kbd>Wheel</kbd> zoom ·{" "}
              <kbd>Space</kbd>+drag pan · <kbd>F</kbd> fit · arrows nudge · <kbd>[</kbd> <kbd>]</kbd> prev/next
            </>
          )}
        </p>
      </aside>
    </div>
  );
}
