// Browser test of the requester console: lin creates a project and two pools
// through the forms (one server-side field error), uploads CSV and JSONL tasks,
// opens / schedules the pools, and exports DPO pairs from the demo pairwise pool.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { apiAs, demoPool, launchBrowser, newPage, screenshot, signIn, startServer, USERS } from "./harness.mjs";

let server;
let browser;
let lin;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  lin = await apiAs(server, USERS.requester);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const CSV = [
  "text,source",
  '"I love it, really",review',
  '"Two lines:\nfirst and ""second""",chat',
  "Meh,forum",
  "",
].join("\r\n");
const CSV_TEXTS = ["I love it, really", 'Two lines:\nfirst and "second"', "Meh"];

const JSONL = [
  { data: { prompt: "Capital of France?", responses: ["Paris.", "Lyon."] } },
  { data: { prompt: "2 + 2?", responses: ["4", "5"] } },
]
  .map((l) => JSON.stringify(l))
  .join("\n");

function assertNoPageErrors(page) {
  assert.deepEqual(page.pageErrors.map(String), []);
}

/** A tomorrow-08:00 datetime-local value. */
function tomorrowAt8() {
  const d = new Date(Date.now() + 24 * 3600 * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T08:00`;
}

test("lin creates a project, a classify and a pairwise pool, uploads tasks and opens them", async () => {
  const page = await newPage(browser);
  await signIn(page, server, USERS.requester);
  await page.goto(`${server.url}/projects`);
  await page.getByRole("heading", { name: "Projects", level: 1 }).waitFor();
  await page.getByRole("list", { name: "Projects" }).getByRole("link", { name: "Street scenes" }).waitFor();

  // New project.
  await page.getByLabel("Project name").fill("Support tickets");
  await page.getByLabel("Description").fill("Sentiment and answer quality of support chats.");
  await page.getByLabel("Guidelines (Markdown)").fill("# Labels\n\nPick the **overall** sentiment.");
  await page.getByLabel("Budget").fill("500");
  await screenshot(page, "projects");
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("heading", { name: "Support tickets", level: 1 }).waitFor();
  const projectId = Number(new URL(page.url()).pathname.split("/")[2]);
  assert.ok(projectId > 0);
  await page.getByText("500.00 CNY").waitFor();
  await page.getByRole("heading", { name: "Labels" }).waitFor(); // guidelines rendered

  // A classify pool; the duplicate label is caught by the server and shown next to Labels.
  await page.getByRole("link", { name: "New pool" }).click();
  await page.getByRole("heading", { name: "New pool" }).waitFor();
  await page.getByLabel("Pool name").fill("Ticket sentiment");
  await page.getByLabel("Task type").selectOption("classify");
  await page.getByLabel("Labels").fill("positive\nnegative\npositive");
  await page.getByLabel("Price per task").fill("0.5");
  await page.getByRole("spinbutton", { name: /^Overlap/ }).fill("2");
  await page.getByLabel("Lease (minutes)").fill("15");
  await page.getByLabel("Max rounds").fill("2");
  await page.getByRole("button", { name: "Create pool" }).click();
  const labelsField = page.locator("label.field", { has: page.getByLabel("Labels") });
  await labelsField.getByRole("alert").filter({ hasText: "duplicate label: “positive” (label 3)" }).waitFor();
  assert.equal(await page.getByLabel("Pool name").inputValue(), "Ticket sentiment"); // the form stays filled
  assert.equal(await page.getByLabel("Price per task").inputValue(), "0.5");
  await screenshot(page, "pool-create");
  // A client-side error too: a bad price is named before anything is sent.
  await page.getByLabel("Price per task").fill("0.505");
  await page.getByRole("button", { name: "Create pool" }).click();
  await page.locator("label.field", { has: page.getByLabel("Price per task") }).getByRole("alert").filter({ hasText: "at most 2 decimals" }).waitFor();
  await page.getByLabel("Price per task").fill("0.50");
  await page.getByLabel("Labels").fill("positive, negative, neutral");
  await page.getByRole("button", { name: "Create pool" }).click();
  await page.getByRole("heading", { name: "Ticket sentiment", level: 1 }).waitFor();
  const classifyId = Number(new URL(page.url()).pathname.split("/")[2]);

  // Upload a CSV (quoted commas, doubled quotes, an embedded line break), then open the pool.
  await page.getByLabel("Task file").setInputFiles({ name: "tickets.csv", mimeType: "text/csv", buffer: Buffer.from(CSV) });
  await page.getByRole("button", { name: "Upload tasks" }).click();
  const report = page.getByRole("status", { name: "Import report" });
  await report.waitFor();
  assert.match(await report.innerText(), /Created\s+3/);
  await report.scrollIntoViewIfNeeded();
  await screenshot(page, "pool-upload");
  await page.getByRole("button", { name: "Open pool" }).click();
  await page.getByRole("status").filter({ hasText: "The pool is open" }).waitFor();
  await page.locator(".dash-head .state-badge", { hasText: "open" }).waitFor();
  assert.match(await report.innerText(), /Created\s+3/); // the report stays after opening

  // A CSV for the wrong shape is refused in the browser, naming the line; nothing is sent.
  await page.getByLabel("Task file").setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from("text,n\nok,1\nragged\n") });
  await page.getByRole("button", { name: "Upload tasks" }).click();
  await page.getByRole("alert").filter({ hasText: "bad.csv: CSV line 3: has 1 field, the header has 2" }).waitFor();

  // A pairwise pool opening tomorrow at 08:00: releasing it schedules it.
  await page.goto(`${server.url}/projects/${projectId}/new-pool`);
  await page.getByLabel("Pool name").fill("Which reply is better?");
  await page.getByLabel("Task type").selectOption("pairwise");
  await page.getByLabel("Rationale required").check();
  await page.getByLabel("Price per task").fill("2");
  await page.getByRole("spinbutton", { name: /^Overlap/ }).fill("3");
  const opens = tomorrowAt8();
  await page.getByLabel("Opens at").fill(opens);
  await page.getByRole("button", { name: "Create pool" }).click();
  await page.getByRole("heading", { name: "Which reply is better?", level: 1 }).waitFor();
  const pairwiseId = Number(new URL(page.url()).pathname.split("/")[2]);
  await page.getByLabel("Task file").setInputFiles({ name: "pairs.jsonl", mimeType: "application/x-ndjson", buffer: Buffer.from(JSONL) });
  await page.getByRole("button", { name: "Upload tasks" }).click();
  assert.match(await page.getByRole("status", { name: "Import report" }).innerText(), /Created\s+2/);
  await page.getByRole("button", { name: "Schedule pool" }).click();
  await page.getByRole("status").filter({ hasText: "Scheduled: the pool opens by itself at" }).waitFor();
  await page.locator(".dash-head .state-badge", { hasText: "scheduled" }).waitFor();

  // The project page lists both pools with their state.
  await page.goto(`${server.url}/projects/${projectId}`);
  const pools = page.getByRole("table", { name: "Pools" });
  await pools.getByRole("link", { name: "Ticket sentiment" }).waitFor();
  await pools.getByRole("row", { name: /Which reply is better\?.*scheduled/ }).waitFor();
  await screenshot(page, "project");

  // The API agrees.
  const project = await lin.get(`/projects/${projectId}`);
  assert.equal(project.guidelines, "# Labels\n\nPick the **overall** sentiment.");
  assert.deepEqual(project.budget.remaining, { amount_minor: 50000, currency: "CNY" });
  const classify = project.pools.find((p) => p.id === classifyId);
  assert.deepEqual(
    { type: classify.task_type, labels: classify.config.labels, price: classify.price, overlap: classify.overlap, lease: classify.lease_seconds, rounds: classify.max_rounds, state: classify.state },
    { type: "classify", labels: ["positive", "negative", "neutral"], price: { amount_minor: 50, currency: "CNY" }, overlap: 2, lease: 900, rounds: 2, state: "open" },
  );
  const pairwise = project.pools.find((p) => p.id === pairwiseId);
  assert.equal(pairwise.task_type, "pairwise");
  assert.equal(pairwise.config.rationale_required, true);
  assert.deepEqual(pairwise.price, { amount_minor: 200, currency: "CNY" });
  assert.equal(pairwise.overlap, 3);
  assert.equal(pairwise.state, "scheduled");
  const [y, mo, d] = opens.slice(0, 10).split("-").map(Number);
  assert.equal(new Date(pairwise.opens_at).getTime(), new Date(y, mo - 1, d, 8, 0).getTime());
  assert.equal(project.pools.length, 2);

  // Exactly the uploaded tasks: counts from the stats, and the texts through annotators' claims.
  assert.equal((await lin.get(`/pools/${classifyId}/stats`)).tasks, 3);
  assert.equal((await lin.get(`/pools/${pairwiseId}/stats`)).tasks, 2);
  const seen = [];
  for (const user of [USERS.annotator, USERS.annotator2]) {
    const worker = await apiAs(server, user);
    for (;;) {
      const c = await worker.post(`/pools/${classifyId}/claims`);
      if (!c) break;
      seen.push(c.task.data);
      await worker.post(`/claims/${c.claim.id}/submit`, { result: { label: "neutral" }, active_seconds: 5 }, { "Idempotency-Key": `k-${c.claim.id}` });
    }
  }
  // Overlap 2: both annotators saw all three tasks, each exactly as uploaded.
  assert.equal(seen.length, 6);
  for (const text of CSV_TEXTS) assert.equal(seen.filter((t) => t.text === text).length, 2, text);
  assert.deepEqual(new Set(seen.map((t) => t.source)), new Set(["review", "chat", "forum"]));
  assertNoPageErrors(page);
  await page.context().close();
});

test("the demo pairwise pool's dashboard shows progress and exports DPO pairs", async () => {
  // Accepted work to export: wang answers a task, sun accepts it.
  const pool = await demoPool(lin, "pairwise");
  const wang = await apiAs(server, USERS.annotator);
  const claim = await wang.post(`/pools/${pool.id}/claims`);
  await wang.post(`/claims/${claim.claim.id}/submit`, { result: { choice: "b", rationale: "B is honest about it." }, active_seconds: 40 }, { "Idempotency-Key": "e2e-requester-1" });
  const sun = await apiAs(server, USERS.reviewer);
  const lease = await sun.post(`/pools/${pool.id}/review-claims`);
  await sun.post(`/submissions/${lease.submission.id}/review`, { verdict: "accept", comments: [] });

  for (const colorScheme of ["light", "dark"]) {
    const page = await newPage(browser, { colorScheme, acceptDownloads: true });
    await signIn(page, server, USERS.requester);
    await page.goto(`${server.url}/pools/${pool.id}`);
    await page.getByRole("heading", { name: pool.name, level: 1 }).waitFor();
    const progress = page.getByRole("group", { name: "Progress" });
    await progress.getByText("Done (accepted)").waitFor();
    assert.match(await progress.locator(".stat", { hasText: "Done (accepted)" }).innerText(), /^1\b/);
    assert.match(await progress.locator(".stat", { hasText: "Cost so far" }).innerText(), /^2\.00 CNY/);

    if (colorScheme === "light") {
      // Charts from the stats (throughput and hourly earnings are newer server keys: "no data yet" without them).
      const stats = await lin.get(`/pools/${pool.id}/stats`);
      if (stats.throughput) {
        const label = await page.getByRole("img", { name: /^Throughput over the last/ }).getAttribute("aria-label");
        assert.match(label, /1 submitted, 1 accepted/);
      } else await page.getByText("No throughput data yet.").waitFor();
      if (stats.hourly_earnings?.length) {
        const label = await page.getByRole("img", { name: /^Effective hourly earnings/ }).getAttribute("aria-label");
        const h = stats.hourly_earnings[0];
        assert.match(label, new RegExp(`1 annotator, from ${h.toFixed(h >= 100 ? 0 : 1)} to`));
      } else await page.getByText("No data yet.").waitFor();

      // The quality engine on demand.
      await page.getByRole("button", { name: "Run quality engine now" }).click();
      await page.getByText(/Snapshot 1 of .* method Dawid-Skene/).waitFor();
      await page.getByRole("table", { name: "Annotator quality" }).waitFor();

      // A format that does not fit is not offered; a DPO export downloads the accepted pair.
      const options = await page.getByLabel("Format").locator("option").allInnerTexts();
      assert.deepEqual(options, ["dpo", "jsonl"]);
      await page.getByLabel("Format").selectOption("dpo");
      await page.getByLabel("Mode").selectOption("raw");
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export" }).click()]);
      assert.equal(download.suggestedFilename(), `pool-${pool.id}-dpo.jsonl`);
      const lines = readFileSync(await download.path(), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(lines.length, 1);
      assert.deepEqual(
        { prompt: lines[0].prompt, chosen: lines[0].chosen, rejected: lines[0].rejected, task_id: lines[0].task_id },
        { prompt: claim.task.data.prompt, chosen: claim.task.data.responses[1], rejected: claim.task.data.responses[0], task_id: claim.task.id },
      );
      // A server error appears next to the button that caused it (preannotations have no DPO form).
      await page.getByLabel("Mode").selectOption("preannotations");
      await page.getByRole("button", { name: "Export" }).click();
      await page.locator("label.field", { has: page.getByLabel("Mode") }).getByRole("alert").waitFor();
      await page.getByLabel("Mode").selectOption("raw");
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, "pool-dashboard");
    } else {
      await page.getByRole("button", { name: "Run quality engine now" }).waitFor();
      await page.getByText(/Snapshot 1 of/).waitFor();
      await screenshot(page, "pool-dashboard-dark");
    }
    assertNoPageErrors(page);
    await page.context().close();
  }
});

/** A w×h PNG of one colour (valid: decodable by any image reader). */
function png(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rows.set([40, 120, 200], y * (w * 3 + 1) + 1 + x * 3);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

test("images uploaded through the picker become bbox tasks", async (t) => {
  const street = await demoPool(lin, "bbox");
  const probe = await fetch(`${server.url}/api/v1/pools/${street.id}/images?name=probe.png`, {
    method: "POST",
    headers: { Authorization: `Bearer ${lin.token}`, "Content-Type": "image/png" },
    body: "",
  });
  if (probe.status === 404) {
    t.skip("this tessera binary has no POST /api/v1/pools/{id}/images yet");
    return;
  }
  const before = (await lin.get(`/pools/${street.id}/stats`)).tasks;
  const page = await newPage(browser);
  await signIn(page, server, USERS.requester);
  await page.goto(`${server.url}/pools/${street.id}`);
  await page.getByLabel("Image files").setInputFiles([
    { name: "one.png", mimeType: "image/png", buffer: png(64, 48) },
    { name: "two.png", mimeType: "image/png", buffer: png(32, 20) },
    { name: "broken.png", mimeType: "image/png", buffer: Buffer.from("not an image") },
  ]);
  await page.getByRole("status").filter({ hasText: /^2 \/ 3 uploaded, 1 failed$/ }).waitFor();
  await page.getByRole("list", { name: "Images that failed" }).getByText(/^broken\.png: /).waitFor();
  assert.equal((await lin.get(`/pools/${street.id}/stats`)).tasks, before + 2);
  assertNoPageErrors(page);
  await page.context().close();
});
