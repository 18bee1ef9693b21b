// Browser tests of the bbox workspace: boxes drawn with the mouse come back from the
// API in image pixels; model drafts accept/undo; frame time while panning 1,500 boxes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { apiAs, launchBrowser, newPage, OUT, screenshot, signIn, startServer, USERS } from "./harness.mjs";

const SOURCE = process.env.TESSERA_SOURCE_DIR ?? resolve(import.meta.dirname, "../..");
/** Must match FIT_MARGIN in src/lib/boxes.ts: the image is fitted centred with this free space. */
const FIT_MARGIN = 12;
/**
 * Budget for the median frame time while panning 1,500 boxes: the main-thread
 * time of a frame that follows a pointer move (its rAF callbacks, redraw, style,
 * layout and paint), measured on headless chromium --disable-gpu (software canvas,
 * 2 cores, load 2–8): this workspace 1.6–2.3 ms (p95 3–11 ms). The same pan over
 * 1,500 absolutely positioned <div>s re-positioned per frame costs 10.5–12.2 ms
 * (a DOM layer moved by one CSS transform 3.1–4.5 ms; drawing all boxes on every
 * frame without the cached layer ~9 ms). rAF intervals are vsync-bound (16.7 ms
 * median for all of these), so they are recorded but not the budget.
 */
const FRAME_BUDGET_MS = 6;

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const demoTasks = readFileSync(join(SOURCE, "demo/image_tasks.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l));
const demoTask = (name) => demoTasks.find((t) => t.data.image.endsWith(name));

/** The canvas and the image→page transform of the initial fit. */
async function stage(page, width, height) {
  const canvas = page.getByRole("img", { name: "Image with boxes" });
  await canvas.waitFor();
  await page.getByText("Loading image…").waitFor({ state: "detached" });
  const r = await canvas.boundingBox();
  const scale = Math.min((r.width - 2 * FIT_MARGIN) / width, (r.height - 2 * FIT_MARGIN) / height);
  const ox = r.x + (r.width - width * scale) / 2;
  const oy = r.y + (r.height - height * scale) / 2;
  return {
    canvas,
    rect: r,
    scale,
    toPage: (x, y) => [ox + x * scale, oy + y * scale],
    toImage: (px, py) => [(px - ox) / scale, (py - oy) / scale],
  };
}

/** The box (or draft) count shown beside the image. */
const count = (page, n, what = "box") => page.getByText(`${n} ${what}${n === 1 ? "" : what === "box" ? "es" : "s"}`, { exact: true });

/** Drags with the left button from (x1, y1) to (x2, y2) in page pixels. */
async function drag(page, x1, y1, x2, y2) {
  await page.mouse.move(x1, y1);
  await page.mouse.down();
  await page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2, { steps: 3 });
  await page.mouse.move(x2, y2, { steps: 3 });
  await page.mouse.up();
}

function assertBox(actual, expected, what) {
  assert.equal(actual.label, expected.label, `${what}: label`);
  for (const k of ["x", "y", "w", "h"]) {
    assert.ok(Math.abs(actual[k] - expected[k]) <= 1.5, `${what}: ${k} = ${actual[k]}, expected ${expected[k]} ± 1.5`);
  }
}

async function importTasks(api, poolId, lines) {
  const r = await fetch(`${server.url}/api/v1/pools/${poolId}/tasks`, {
    method: "POST",
    headers: { Authorization: `Bearer ${api.token}`, "Content-Type": "application/x-ndjson" },
    body: lines.map((l) => JSON.stringify(l)).join("\n") + "\n",
  });
  const text = await r.text();
  assert.ok(r.ok, `import: ${r.status} ${text}`);
  return JSON.parse(text);
}

async function newBboxPool(lin, name, lines) {
  const { projects } = await lin.get("/projects");
  const pool = await lin.post(`/projects/${projects[0].id}/pools`, {
    name,
    task_type: "bbox",
    config: { labels: ["person", "car", "traffic light"] },
    price: { amount_minor: 30 },
    overlap: 1,
  });
  const report = await importTasks(lin, pool.id, lines);
  assert.equal(report.created, lines.length);
  await lin.post(`/pools/${pool.id}/open`);
  return pool;
}

const lastBoxes = (sub) => sub.rounds[sub.rounds.length - 1].result.boxes;

test("an annotator draws and labels two boxes and the API returns exactly them; drafts accept and undo", async () => {
  const lin = await apiAs(server, USERS.requester);
  const page = await newPage(browser);
  await signIn(page, server, USERS.annotator);

  // --- The demo pool, from the home page.
  const claimed = page.waitForResponse((r) => /\/pools\/\d+\/claims$/.test(r.url()) && r.request().method() === "POST");
  await page.getByRole("button", { name: "Start working: Street boxes" }).click();
  const { task } = await (await claimed).json();
  const { width: W, height: H } = task.data;
  const st = await stage(page, W, H);

  // Box 1: drawn, then labelled "car" by hotkey 2 (it is selected after drawing).
  const a = [st.toPage(W * 0.1, H * 0.15), st.toPage(W * 0.45, H * 0.5)];
  await drag(page, a[0][0], a[0][1], a[1][0], a[1][1]);
  await page.keyboard.press("2");
  // Box 2: drawn right to left, bottom to top (corners in any order), labelled from the list.
  const b = [st.toPage(W * 0.9, H * 0.85), st.toPage(W * 0.55, H * 0.6)];
  await drag(page, b[0][0], b[0][1], b[1][0], b[1][1]);
  await page.getByLabel("Box 2 label").selectOption("traffic light");
  assert.equal(await page.getByLabel("Box 1 label").inputValue(), "car");
  await count(page, 2).waitFor();

  const submitted = page.waitForResponse((r) => /\/claims\/\d+\/submit/.test(r.url()));
  await page.getByRole("button", { name: /^Submit/ }).click();
  const subResp = await submitted;
  assert.ok(subResp.ok(), `submit: ${subResp.status()} ${await subResp.text()}`);
  const sub = await lin.get(`/submissions/${(await subResp.json()).id}`);
  const boxes = lastBoxes(sub);
  assert.equal(boxes.length, 2, JSON.stringify(boxes));
  const expect = (label, p, q) => {
    const [x1, y1] = st.toImage(...p);
    const [x2, y2] = st.toImage(...q);
    return { label, x: Math.min(x1, x2), y: Math.min(y1, y2), w: Math.abs(x2 - x1), h: Math.abs(y2 - y1) };
  };
  assertBox(boxes[0], expect("car", a[0], a[1]), "box 1");
  assertBox(boxes[1], expect("traffic light", b[0], b[1]), "box 2");
  assert.deepEqual(page.pageErrors, []);

  // --- The reviewer sees it read-only, clicks box 2 on the image and returns it
  // with a comment anchored there.
  const rpage = await newPage(browser);
  await signIn(rpage, server, USERS.reviewer);
  await rpage.goto(`${server.url}/review/${sub.pool_id}`);
  const rst = await stage(rpage, W, H);
  await count(rpage, 2).waitFor();
  assert.equal(await rpage.getByLabel("Box 1 label").count(), 0, "no label selects when read-only");
  assert.equal(await rpage.getByRole("button", { name: "Delete box 1" }).count(), 0);
  const b2 = boxes[1];
  await rpage.mouse.click(...rst.toPage(b2.x + b2.w / 2, b2.y + b2.h / 2));
  await rpage.getByText("Anchor: box 2").waitFor();
  await rpage.keyboard.press("Delete"); // read-only: no edit
  await count(rpage, 2).waitFor();
  await rpage.getByLabel("Comment", { exact: true }).fill("The light is cut off at the top");
  await rpage.getByRole("button", { name: "Add comment" }).click();
  const listed = rpage.getByRole("button", { name: "Comment on box 2: The light is cut off at the top" });
  await listed.click();
  await rpage.getByRole("button", { name: "Comment on box 2: The light is cut off at the top", pressed: true }).waitFor({ timeout: 5000 });
  assert.equal(await listed.getAttribute("aria-pressed"), "true");
  await screenshot(rpage, "bbox-review");
  await rpage.getByRole("button", { name: /^Return for revision/ }).click();
  await rpage.getByText("Nothing is waiting for review in this pool.").waitFor();
  const returned = await lin.get(`/submissions/${sub.id}`);
  assert.equal(returned.state, "returned");
  assert.deepEqual(lastBoxes(returned), boxes, "the reviewer changed nothing");
  assert.deepEqual(returned.rounds[0].comments, [{ text: "The light is cut off at the top", anchor: { box: 1 } }]);
  assert.deepEqual(rpage.pageErrors, []);
  await rpage.context().close();

  // --- A pool with model drafts (dashed): accept, undo/redo, adjust by dragging, accept all.
  const t1 = demoTask("000000000419.jpg");
  const t2 = demoTask("000000000359.jpg");
  const drafts1 = t1.gold.boxes.map((bx, i) => ({ ...bx, score: 0.5 + i / 20 }));
  const pool = await newBboxPool(lin, "Street boxes with drafts", [
    { data: { image: t1.data.image, width: t1.data.width, height: t1.data.height }, preannotation: { result: { boxes: drafts1 }, model: "yolov8n", score: 0.8 } },
    { data: { image: t2.data.image, width: t2.data.width, height: t2.data.height }, preannotation: { result: { boxes: t2.gold.boxes }, model: "yolov8n", score: 0.7 } },
  ]);
  const claimed2 = page.waitForResponse((r) => /\/pools\/\d+\/claims$/.test(r.url()) && r.request().method() === "POST");
  await page.goto(`${server.url}/work/${pool.id}`);
  const claim2 = await (await claimed2).json();
  const drafts = claim2.task.preannotations[0].result.boxes;
  const W2 = claim2.task.data.width;
  const H2 = claim2.task.data.height;
  const st2 = await stage(page, W2, H2);
  await count(page, drafts.length, "draft").waitFor();
  await count(page, 0).waitFor();

  // The largest draft (so a click inside it hits no other): select it, accept with the A key.
  const order = drafts.map((d, i) => i).sort((i, j) => drafts[j].w * drafts[j].h - drafts[i].w * drafts[i].h);
  const big = drafts[order[0]];
  const [cx, cy] = st2.toPage(big.x + big.w / 2, big.y + big.h / 2);
  await page.mouse.click(cx, cy);
  await page.keyboard.press("a");
  await count(page, 1).waitFor();
  assert.equal(await page.getByLabel("Box 1 label").inputValue(), big.label);
  await count(page, drafts.length - 1, "draft").waitFor();
  // Undo turns it back into a draft; redo accepts it again (keys and buttons).
  await page.keyboard.press("Control+z");
  await count(page, 0).waitFor();
  await count(page, drafts.length, "draft").waitFor();
  assert.equal(await page.getByLabel("Box 1 label").count(), 0);
  await page.keyboard.press("Control+Shift+Z");
  await count(page, 1).waitFor();
  await page.getByRole("button", { name: "Undo" }).click();
  await count(page, 0).waitFor();
  await page.getByRole("button", { name: "Redo" }).click();
  await count(page, 1).waitFor();

  // Dragging another draft adjusts it and accepts it.
  const second = drafts[order[1]];
  const [sx, sy] = st2.toPage(second.x + second.w / 2, second.y + second.h / 2);
  await drag(page, sx, sy, sx + 20, sy + 10);
  await count(page, 2).waitFor();
  // And one box drawn by hand in an empty corner, labelled person with the hotkey first.
  await page.keyboard.press("Escape");
  await page.keyboard.press("1");
  const c = [st2.toPage(4, 4), st2.toPage(W2 * 0.12, H2 * 0.12)];
  await drag(page, c[0][0], c[0][1], c[1][0], c[1][1]);
  await count(page, 3).waitFor();
  await screenshot(page, "bbox-workspace");

  // Accept all, then undo it with the button.
  await page.getByRole("button", { name: /^Accept all drafts/ }).click();
  await count(page, drafts.length + 1).waitFor();
  await page.getByRole("button", { name: "Undo" }).click();
  await count(page, 3).waitFor();

  // Wheel zoom around the cursor, F fits again; nothing is edited by either.
  const zoom = page.getByLabel("Zoom level");
  const fitted = await zoom.textContent();
  await page.mouse.move(cx, cy);
  await page.mouse.wheel(0, -300);
  await page.waitForFunction((f) => document.querySelector("output.bbox-zoom-value")?.textContent !== f, fitted);
  assert.ok(parseInt(await zoom.textContent()) > parseInt(fitted), `zoomed in: ${await zoom.textContent()} from ${fitted}`);
  await page.keyboard.press("f");
  await page.waitForFunction((f) => document.querySelector("output.bbox-zoom-value")?.textContent === f, fitted);
  await count(page, 3).waitFor();

  const submitted2 = page.waitForResponse((r) => /\/claims\/\d+\/submit/.test(r.url()));
  await page.getByRole("img", { name: "Image with boxes" }).focus();
  await page.keyboard.press("Control+Enter");
  const sub2 = await lin.get(`/submissions/${(await (await submitted2).json()).id}`);
  const got = lastBoxes(sub2);
  assert.equal(got.length, 3, JSON.stringify(got));
  assertBox(got[0], { label: big.label, x: big.x, y: big.y, w: big.w, h: big.h }, "accepted draft");
  assert.equal(got[0].score, undefined, "the model score is not part of the answer");
  const dx = 20 / st2.scale;
  assertBox(got[1], { ...second, x: second.x + dx, y: second.y + dx / 2 }, "dragged draft");
  const [e1, e2] = [st2.toImage(...c[0]), st2.toImage(...c[1])];
  assertBox(got[2], { label: "person", x: e1[0], y: e1[1], w: e2[0] - e1[0], h: e2[1] - e1[1] }, "drawn box");

  // The next task is there at once, with its drafts: the dark theme.
  await page.emulateMedia({ colorScheme: "dark" });
  const next = t2.gold.boxes;
  await count(page, next.length, "draft").waitFor();
  const st3 = await stage(page, t2.data.width, t2.data.height);
  const d0 = next[0];
  const [qx, qy] = st3.toPage(d0.x + d0.w / 2, d0.y + d0.h / 2);
  await page.mouse.click(qx, qy);
  await page.getByRole("button", { name: "Accept draft", exact: true }).click();
  await count(page, 1).waitFor();
  const r3 = [st3.toPage(10, 10), st3.toPage(t2.data.width * 0.2, t2.data.height * 0.25)];
  await drag(page, r3[0][0], r3[0][1], r3[1][0], r3[1][1]);
  await count(page, 2).waitFor();
  await screenshot(page, "bbox-workspace-dark");
  assert.deepEqual(page.pageErrors, []);
  await page.context().close();
});

test("1,500 boxes: panning stays smooth (median frame time under budget)", async () => {
  const lin = await apiAs(server, USERS.requester);
  const t = demoTask("000000000036.jpg");
  const { width: W, height: H } = t.data;
  const labels = ["person", "car", "traffic light"];
  const boxes = [];
  for (let i = 0; i < 1500; i++) {
    const col = i % 30;
    const row = Math.floor(i / 30);
    const cw = W / 30;
    const ch = H / 50;
    boxes.push({ label: labels[i % 3], x: +(col * cw + 1).toFixed(1), y: +(row * ch + 1).toFixed(1), w: +(cw - 3 - (i % 4)).toFixed(1), h: +(ch - 3 - (i % 3)).toFixed(1), score: 0.5 });
  }
  const pool = await newBboxPool(lin, "1,500 boxes", [
    { data: { image: t.data.image, width: W, height: H }, preannotation: { result: { boxes }, model: "grid", score: 0.5 } },
  ]);

  const page = await newPage(browser);
  await signIn(page, server, USERS.annotator2);
  await page.goto(`${server.url}/work/${pool.id}`);
  const st = await stage(page, W, H);
  await page.getByRole("button", { name: "Accept all drafts (1500)" }).click();
  await count(page, 1500).waitFor();
  // The side list stays small: only the visible rows are in the DOM.
  const rows = await page.getByRole("listitem").count();
  assert.ok(rows > 5 && rows < 80, `list rows rendered: ${rows}`);
  await screenshot(page, "bbox-1500");

  // Pan with space+drag in 60 steps, one frame per step, recording rAF timestamps.
  await st.canvas.focus();
  const before = await st.canvas.screenshot();
  // Each frame: its rAF timestamp and, for frames that follow a pointer move (pan
  // frames), the main-thread time from the start of its rAF callbacks to the first
  // task after its rendering (our callback is registered a frame ahead, so it runs
  // before the workspace's redraw): the frame's cost, whatever the vsync rate.
  await page.evaluate(() => {
    const w = window;
    w.__frames = [];
    w.__work = [];
    w.__rec = true;
    let moved = false;
    let pan = false;
    window.addEventListener("pointermove", () => (moved = true), { capture: true });
    const mc = new MessageChannel();
    let t0 = 0;
    mc.port1.onmessage = () => pan && w.__work.push(performance.now() - t0);
    const loop = (ts) => {
      w.__frames.push(ts);
      t0 = performance.now();
      pan = moved;
      moved = false;
      mc.port2.postMessage(0);
      if (w.__rec) requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  });
  const x0 = st.rect.x + st.rect.width / 2;
  const y0 = st.rect.y + st.rect.height / 2;
  await page.keyboard.down(" ");
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  for (let i = 1; i <= 60; i++) {
    const a = (i / 60) * Math.PI * 2;
    await page.mouse.move(x0 + 150 * Math.sin(a), y0 + 80 * (1 - Math.cos(a)) - 40 * (i / 60));
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  }
  await page.mouse.up();
  await page.keyboard.up(" ");
  const { frames, work } = await page.evaluate(() => {
    window.__rec = false;
    return { frames: window.__frames, work: window.__work };
  });
  const sorted = (xs) => xs.slice().sort((p, q) => p - q);
  const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
  const dts = sorted(frames.slice(1).map((t, i) => t - frames[i]));
  const costs = sorted(work);
  const result = {
    boxes: 1500,
    pan_steps: 60,
    frame_cost_median_ms: +pct(costs, 50).toFixed(2),
    frame_cost_p95_ms: +pct(costs, 95).toFixed(2),
    pan_frames: costs.length,
    budget_frame_cost_median_ms: FRAME_BUDGET_MS,
    raf_interval_median_ms: +pct(dts, 50).toFixed(2),
    raf_interval_p95_ms: +pct(dts, 95).toFixed(2),
    raf_interval_max_ms: +dts[dts.length - 1].toFixed(2),
    frames: dts.length,
    viewport: "1280x720",
    browser: "chromium headless --disable-gpu (software canvas)",
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, "bbox-frame-time.json"), JSON.stringify(result, null, 2) + "\n");
  console.log("bbox frame time:", JSON.stringify(result));

  // The view did move (the pan ends 40 px above where it started), and nothing was edited.
  const afterShot = await st.canvas.screenshot();
  assert.notDeepEqual(before, afterShot, "the pan moved the image");
  await count(page, 1500).waitFor();
  assert.ok(costs.length >= 30, `pan frames recorded: ${costs.length}`);
  assert.ok(
    result.frame_cost_median_ms < FRAME_BUDGET_MS,
    `median frame time while panning ${result.frame_cost_median_ms} ms, over the ${FRAME_BUDGET_MS} ms budget`,
  );
  assert.deepEqual(page.pageErrors, []);
  await page.context().close();
});
