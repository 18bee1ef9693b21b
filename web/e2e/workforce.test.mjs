// Browser test of the workforce loop: a trial with feedback opens a pool,
// a flag reaches the requester's dashboard, a rejection is appealed and
// upheld by another reviewer (paid), standing is shown with every factor,
// the signed work record verifies offline, and a reviewer grants a skill.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { apiAs, launchBrowser, newPage, screenshot, signIn, startServer, USERS } from "./harness.mjs";

const run = promisify(execFile);
let server;
let browser;
let lin;
let pool;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  lin = await apiAs(server, USERS.requester);
  const project = await lin.post("/projects", {
    name: "Support tickets",
    guidelines: "# Tone\nLabel the customer's tone.\n\n# Sarcasm\nSarcastic praise is negative.",
    budget: { amount_minor: 100000 },
  });
  pool = await lin.post(`/projects/${project.id}/pools`, {
    name: "Ticket tone",
    task_type: "classify",
    config: { labels: ["positive", "neutral", "negative"], workforce: { trial: { required: true, tasks: 2, pass_threshold: 0.5 } } },
    price: { amount_minor: 50 },
  });
  await lin.post(`/pools/${pool.id}/trial-tasks`, {
    tasks: [
      { data: { text: "Thanks, that fixed it!" }, gold: { label: "positive" } },
      { data: { text: "Oh great, another outage. Love it." }, gold: { label: "negative" } },
    ],
  });
  await lin.post(`/pools/${pool.id}/tasks`, {
    tasks: [{ data: { text: "Wow, only three hours on hold. Amazing service." } }, { data: { text: "Where is my refund?" } }],
  });
  await lin.post(`/pools/${pool.id}/open`);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test("trial, flag, appeal, standing, record, skills", async () => {
  const wang = await apiAs(server, USERS.annotator);
  const page = await newPage(browser);
  await signIn(page, server, USERS.annotator);

  // The pool asks for a trial: the home page says so and offers it.
  const trialButton = page.getByRole("button", { name: `Take the trial: ${pool.name}` });
  await trialButton.waitFor();
  assert.match(await page.getByRole("list", { name: "Pools you cannot enter" }).textContent(), /needs a passed trial/);
  await trialButton.click();
  await page.getByText("task 1 of 2").waitFor();
  await screenshot(page, "trial");
  // Both tasks by hotkey; the second one wrong on purpose (neutral instead of negative).
  const first = await page.locator(".prompt").textContent();
  await page.keyboard.press(first.includes("fixed") ? "1" : "2");
  await page.keyboard.press("Control+Enter");
  await page.getByText("task 2 of 2").waitFor();
  const second = await page.locator(".prompt").textContent();
  await page.keyboard.press(second.includes("fixed") ? "1" : "2");
  await page.keyboard.press("Control+Enter");
  const result = page.getByRole("region", { name: "Trial result" });
  await result.getByText("You passed the trial.").waitFor();
  assert.match(await page.getByRole("table", { name: "Feedback per task" }).textContent(), /expected answer was negative/);
  await screenshot(page, "trial-result");
  const trials = (await wang.get("/me/trials")).trials;
  assert.equal(trials[0].passed, true);

  // Work: flag the sarcastic ticket, then submit it.
  await result.getByRole("link", { name: /Start working/ }).click();
  await page.getByRole("button", { name: "Flag as ambiguous" }).click();
  await page.getByLabel("Guideline section").selectOption("Sarcasm");
  await page.getByLabel("What is ambiguous").fill("Is sarcastic praise about waiting negative or neutral?");
  await page.getByRole("button", { name: "Send flag" }).click();
  await page.getByRole("button", { name: "Flagged" }).waitFor();
  await page.keyboard.press("2");
  await page.keyboard.press("Control+Enter");
  await page.waitForFunction(() => !document.querySelector('button[aria-pressed="true"]'));
  const submission = (await wang.get("/me/submissions")).submissions.find((s) => s.pool_id === pool.id);

  // Sun rejects it; Wang appeals; the admin (another reviewer) upholds it and Wang is paid.
  const sun = await apiAs(server, USERS.reviewer);
  const lease = await sun.post(`/pools/${pool.id}/review-claims`);
  assert.equal(lease.submission.id, submission.id);
  await sun.post(`/submissions/${submission.id}/review`, { verdict: "reject", comments: [{ text: "Wrong tone." }] });
  const balanceBefore = (await wang.get("/me/earnings")).balance.amount_minor;
  await page.goto(`${server.url}/returned`);
  await page.getByRole("button", { name: `Appeal the rejection of task ${submission.task_id}` }).click();
  await page.getByLabel("Why the rejection is wrong").fill("Sarcastic praise about waiting is negative per the guidelines.");
  await page.getByRole("button", { name: "Send appeal" }).click();
  await page.getByText("appeal open").waitFor();
  const admin = await newPage(browser);
  await signIn(admin, server, USERS.admin);
  await admin.goto(`${server.url}/review`);
  const card = admin.getByRole("article", { name: /Appeal/ });
  await card.getByRole("button", { name: "Show the work" }).click();
  await card.getByText("Why it was rejected").waitFor();
  await card.getByLabel("Decision note").fill("Matches the Sarcasm section.");
  await screenshot(admin, "appeal-decide");
  await card.getByRole("button", { name: /Uphold/ }).click();
  await admin.getByText("No open appeals.").waitFor();
  assert.equal((await wang.get(`/submissions/${submission.id}`)).state, "accepted");
  assert.equal((await wang.get("/me/earnings")).balance.amount_minor - balanceBefore, pool.price.amount_minor);

  // Lin sees the flag next to the disagreement, and who got which task and why.
  const dash = await newPage(browser);
  await signIn(dash, server, USERS.requester);
  await dash.goto(`${server.url}/pools/${pool.id}`);
  await dash.getByText(/Sarcasm\s*—\s*1 flag/).waitFor();
  await dash.getByRole("table", { name: "Recent claims and why" }).waitFor();
  assert.match(await dash.getByRole("table", { name: "Recent claims and why" }).textContent(), /open|priority|exploration/);
  await screenshot(dash, "pool-workforce");

  // Standing with every factor; the signed record verifies offline, and fails once altered.
  await page.goto(`${server.url}/standing`);
  const overall = page.getByRole("table", { name: "Overall: factors" });
  await overall.waitFor();
  for (const f of ["Gold accuracy", "First-pass acceptance", "Rejection rate", "Volume"]) assert.match(await overall.textContent(), new RegExp(f));
  await screenshot(page, "standing");
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download my signed work record" }).click();
  const file = join(server.dir, "record.json");
  await (await download).saveAs(file);
  const keyFile = join(server.dir, "key.json");
  writeFileSync(keyFile, JSON.stringify(await (await fetch(`${server.url}/api/v1/record-key`)).json()));
  const bin = process.env.TESSERA_BIN ?? join(process.env.TESSERA_SOURCE_DIR ?? join(import.meta.dirname, "../.."), "build/tessera");
  const ok = await run(bin, ["verify-record", file, "--key", keyFile]);
  assert.match(ok.stdout, /valid: .*wang/);
  const signed = readFileSync(file, "utf8");
  assert.ok(signed.includes('"wang"'));
  writeFileSync(file, signed.replace('"wang"', '"wanh"'));
  await assert.rejects(run(bin, ["verify-record", file, "--key", keyFile]), (e) => e.code === 1);

  // Background: Wang describes herself; Sun grants the skill with a reason.
  await page.goto(`${server.url}/profile`);
  await page.getByRole("checkbox", { name: "medicine" }).check();
  await page.getByLabel("Profession").fill("Nurse");
  await page.getByLabel("Evidence").fill("Registered nurse, 6 years in a clinic.");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  const reviewer = await newPage(browser);
  await signIn(reviewer, server, USERS.reviewer);
  await reviewer.goto(`${server.url}/profiles`);
  const profile = reviewer.getByRole("article", { name: "Profile of wang" });
  await profile.getByLabel("Reason").fill("Licence checked.");
  await profile.getByRole("button", { name: "Grant skill" }).click();
  await reviewer.getByText("No profile is waiting.").waitFor();
  const skills = (await wang.get("/me/profile")).skills;
  assert.deepEqual(
    skills.map((s) => [s.skill, s.reason]),
    [["medicine", "Licence checked."]],
  );
  for (const p of [page, admin, dash, reviewer]) assert.deepEqual(p.pageErrors, []);
});
