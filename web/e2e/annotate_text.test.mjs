// Browser test: an annotator does a pairwise and a rewrite task by keyboard
// only, and the API then holds exactly what they chose and wrote.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { apiAs, demoPool, launchBrowser, newPage, screenshot, signIn, startServer, USERS } from "./harness.mjs";

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

/** Presses Tab until the focused element has `name` as its accessible label, then Enter. */
async function tabTo(page, name) {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    const label = await page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent);
    if (label && label.includes(name)) {
      await page.keyboard.press("Enter");
      return;
    }
  }
  throw new Error(`could not reach "${name}" with Tab`);
}

/**
 * Waits until the element with focus matches `selector`: the hotkey that moves
 * focus there has taken effect, so typing goes into it.
 */
async function focused(page, selector) {
  await page.waitForFunction((s) => document.activeElement?.matches(s), selector, { timeout: 5000 });
}

test("pairwise and rewrite by keyboard only", async () => {
  const page = await newPage(browser);
  await signIn(page, server, USERS.annotator);
  await page.getByRole("heading", { name: "Work" }).waitFor();
  await screenshot(page, "annotator-home");
  const wang = await apiAs(server, USERS.annotator);

  // Pairwise: B is better, with the rationale the pool requires.
  await tabTo(page, "Start working: Which answer is better?");
  await page.getByRole("region", { name: "Response B" }).waitFor();
  await page.keyboard.press("Control+Enter"); // nothing chosen yet: refused with a message
  await page.getByRole("alert").filter({ hasText: "Choose A, B or tie" }).waitFor();
  await page.keyboard.press("b");
  // The key's effect shows on the next render: wait for it, then check.
  await page.getByRole("button", { name: "B is better", pressed: true }).waitFor({ timeout: 5000 });
  assert.equal(await page.getByRole("button", { name: "B is better" }).getAttribute("aria-pressed"), "true");
  await page.keyboard.press("r");
  await focused(page, "textarea");
  await page.keyboard.type("B answers the question; A does not.");
  await screenshot(page, "workspace-pairwise");
  const pairwiseTask = await page.evaluate(() => document.title);
  assert.ok(pairwiseTask);
  await page.keyboard.press("Control+Enter");
  // The next task replaces it: the choice is cleared.
  await page.waitForFunction(() => !document.querySelector('button[aria-pressed="true"]'));
  let subs = (await wang.get("/me/submissions")).submissions;
  assert.equal(subs.length, 1);
  assert.deepEqual(subs[0].rounds[0].result, { choice: "b", rationale: "B answers the question; A does not." });

  // Rewrite: replace the response with new text.
  await page.goto(server.url + "/");
  await page.getByRole("heading", { name: "Work" }).waitFor();
  await tabTo(page, "Start working: Rewrite the answer");
  await page.getByRole("region", { name: "Original response" }).waitFor();
  await page.keyboard.press("e");
  await focused(page, "textarea.editor");
  await page.keyboard.press("Control+a");
  await page.keyboard.type("Antibiotics do not help against a cold, which is caused by a virus.");
  assert.equal(await page.locator("textarea.editor").inputValue(), "Antibiotics do not help against a cold, which is caused by a virus.");
  // The live diff marks the new words as inserted.
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[aria-label="What you changed"] ins')].some((e) => e.textContent.includes("virus")),
  );
  await screenshot(page, "workspace-rewrite");
  await page.keyboard.press("Control+Enter");
  for (let i = 0; i < 50 && subs.length < 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    subs = (await wang.get("/me/submissions")).submissions;
  }
  const rewrite = subs.find((s) => s.rounds[0].result.text !== undefined);
  assert.ok(rewrite, "the rewrite was submitted");
  assert.equal(rewrite.rounds[0].result.text, "Antibiotics do not help against a cold, which is caused by a virus.");
  const rewritePool = await demoPool(wang, "rewrite");
  assert.equal(rewrite.pool_id, rewritePool.id);
  assert.ok(rewrite.rounds[0].active_seconds >= 0);
  assert.deepEqual(page.pageErrors, []);
});
