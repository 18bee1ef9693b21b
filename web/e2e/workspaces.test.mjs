// Browser test of the rating, classify and reference workspaces end to end
// (what the annotator enters is what the API stores), of readable errors
// instead of blank screens, and screenshots of the screens in both themes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { apiAs, demoPool, launchBrowser, newPage, screenshot, signIn, startServer, USERS } from "./harness.mjs";

let server;
let browser;
let lin;
let wang;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  lin = await apiAs(server, USERS.requester);
  wang = await apiAs(server, USERS.annotator);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function textPool(type, config, tasks) {
  const { projects } = await lin.get("/projects");
  const pool = await lin.post(`/projects/${projects[0].id}/pools`, { name: `E2E ${type}`, task_type: type, config, price: { amount_minor: 100 } });
  await lin.post(`/pools/${pool.id}/tasks`, { tasks });
  await lin.post(`/pools/${pool.id}/open`);
  return pool;
}

const lastResult = async (poolId) => {
  const subs = (await wang.get("/me/submissions")).submissions.filter((s) => s.pool_id === poolId);
  assert.equal(subs.length, 1, `one submission in pool ${poolId}`);
  return subs[0].rounds[0].result;
};

test("rating: a score per criterion and a rationale", async () => {
  const pool = await demoPool(wang, "rating");
  const page = await newPage(browser);
  await signIn(page, server, USERS.annotator);
  await page.goto(`${server.url}/work/${pool.id}`);
  const criteria = pool.config.criteria;
  // The first criterion by mouse, the others by typing their scores.
  await page.getByRole("radiogroup", { name: criteria[0] }).getByRole("radio", { name: "3" }).check();
  await page.locator("body").click({ position: { x: 5, y: 300 } });
  await page.keyboard.press("4");
  await page.keyboard.press("5");
  await page.getByLabel(/Rationale/).fill("Correct but terse.");
  await screenshot(page, "workspace-rating");
  await page.getByRole("button", { name: /Submit/ }).click();
  await page.waitForFunction(() => !document.querySelector('input[type="radio"]:checked'));
  assert.deepEqual(await lastResult(pool.id), { scores: Object.fromEntries(criteria.map((c, i) => [c, i + 3])), rationale: "Correct but terse." });
  assert.deepEqual(page.pageErrors, []);
});

test("classify: a label by hotkey", async () => {
  const pool = await textPool("classify", { labels: ["positive", "neutral", "negative"] }, [
    { data: { text: "The lab results came back fine." } },
    { data: { text: "The wait was far too long." } },
  ]);
  const page = await newPage(browser, { colorScheme: "dark" });
  await signIn(page, server, USERS.annotator);
  await page.getByRole("button", { name: `Start working: ${pool.name}` }).click();
  await page.getByRole("group", { name: "Label" }).waitFor();
  await page.keyboard.press("3");
  // The key's effect shows on the next render: wait for it, then check.
  await page.getByRole("button", { name: /negative/, pressed: true }).waitFor({ timeout: 5000 });
  assert.equal(await page.getByRole("button", { name: /negative/ }).getAttribute("aria-pressed"), "true");
  await screenshot(page, "workspace-classify-dark");
  await page.keyboard.press("Control+Enter");
  await page.waitForFunction(() => !document.querySelector('button[aria-pressed="true"]'));
  assert.deepEqual(await lastResult(pool.id), { label: "negative" });
});

test("reference: Markdown with preview and word count", async () => {
  const pool = await textPool("reference", {}, [{ data: { prompt: "When should a cold be treated with antibiotics?" } }]);
  const page = await newPage(browser);
  await signIn(page, server, USERS.annotator);
  await page.goto(`${server.url}/work/${pool.id}`);
  const answer = "## Short answer\n\nAlmost **never**: colds are viral.";
  await page.getByLabel("Your answer (Markdown)").fill(answer);
  await page.getByRole("region", { name: "Preview" }).getByRole("heading", { name: "Short answer" }).waitFor();
  assert.equal(await page.getByRole("region", { name: "Preview" }).locator("strong").textContent(), "never");
  await page.getByText("7 words").waitFor();
  await page.getByRole("complementary", { name: "Guideline" }).waitFor();
  await screenshot(page, "workspace-reference");
  await page.getByRole("button", { name: /Submit/ }).click();
  await page.getByText("No task is left for you in this pool").waitFor();
  assert.deepEqual(await lastResult(pool.id), { text: answer });
});

test("failed requests show a readable error, never a blank page", async () => {
  const page = await newPage(browser);
  await signIn(page, server, USERS.annotator);
  await page.goto(`${server.url}/work/999999`);
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.textContent(), /pool/i);
  await page.goto(`${server.url}/returned/999999`);
  await page.getByRole("alert").waitFor();
  await page.goto(`${server.url}/no/such/page`);
  await page.getByRole("heading", { name: "Page not found" }).waitFor();
  // A wrong password is said next to the form.
  const fresh = await newPage(browser);
  await fresh.goto(server.url + "/");
  await fresh.getByLabel("Username").fill("wang");
  await fresh.getByLabel("Password").fill("not-the-password");
  await fresh.getByRole("button", { name: "Sign in" }).click();
  await fresh.getByRole("alert").waitFor();
  await screenshot(fresh, "login-error");
});

test("screens in light and dark", async () => {
  for (const scheme of ["light", "dark"]) {
    const page = await newPage(browser, { colorScheme: scheme });
    await page.goto(server.url + "/");
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await screenshot(page, `login-${scheme}`);
    await signIn(page, server, USERS.annotator);
    await page.getByRole("heading", { name: "Work" }).waitFor();
    await screenshot(page, `home-${scheme}`);
    const pairwise = await demoPool(wang, "pairwise");
    await page.goto(`${server.url}/work/${pairwise.id}`);
    await page.getByRole("region", { name: "Response A" }).waitFor();
    await page.keyboard.press("g");
    await page.getByRole("complementary", { name: "Guidelines" }).waitFor();
    await screenshot(page, `guidelines-${scheme}`);
    await page.goto(`${server.url}/earnings`);
    await page.getByRole("heading", { name: "Earnings" }).waitFor();
    await screenshot(page, `earnings-${scheme}`);
  }
});
