// Browser test of the review loop: a reviewer returns a rewrite with a comment
// anchored on a sentence, the annotator sees it on that sentence and
// resubmits, the reviewer accepts, and the annotator's earnings grow by the
// pool's price.
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

const FIRST = "Antibiotics do not cure colds. Take them only when a doctor prescribes them.";
const SENTENCE = "Take them only when a doctor prescribes them.";

/** Selects `needle` inside the element labelled `label`, as a mouse selection would. */
async function selectText(page, label, needle) {
  await page.evaluate(
    ([label, needle]) => {
      const root = document.querySelector(`[aria-label="${label}"]`);
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.textContent.indexOf(needle);
        if (at >= 0) {
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + needle.length);
          const sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
          root.dispatchEvent(new MouseEvent("mouseup", { bubbles: true }));
          return;
        }
      }
      throw new Error(`text not found: ${needle}`);
    },
    [label, needle],
  );
}

test("return with an anchored comment, resubmit, accept, get paid", async () => {
  const wang = await apiAs(server, USERS.annotator);
  const pool = await demoPool(wang, "rewrite");
  const claim = await wang.post(`/pools/${pool.id}/claims`);
  const submitted = await wang.post(`/claims/${claim.claim.id}/submit`, { result: { text: FIRST }, active_seconds: 600 }, { "Idempotency-Key": "e2e-review-1" });
  const before = (await wang.get("/me/earnings")).balance;

  // The reviewer returns it with a comment on the second sentence.
  const reviewer = await newPage(browser);
  await signIn(reviewer, server, USERS.reviewer);
  await reviewer.getByRole("link", { name: "Review", exact: true }).click();
  await reviewer.getByRole("button", { name: `Review: ${pool.name}` }).click();
  await reviewer.getByLabel("Rewritten response").waitFor();
  await selectText(reviewer, "Rewritten response", SENTENCE);
  await reviewer.getByText(`Anchor: “${SENTENCE}”`).waitFor();
  await reviewer.getByLabel("Comment").fill("Cite the guideline year.");
  await reviewer.getByRole("button", { name: "Add comment" }).click();
  await screenshot(reviewer, "review-desk");
  await reviewer.getByRole("button", { name: /Return for revision/ }).click();
  await reviewer.getByText("Nothing is waiting for review in this pool.").waitFor();

  let sub = await wang.get(`/submissions/${submitted.id}`);
  assert.equal(sub.state, "returned");
  const start = FIRST.indexOf(SENTENCE);
  assert.deepEqual(sub.rounds[0].comments, [{ text: "Cite the guideline year.", anchor: { span: { start, end: start + SENTENCE.length } } }]);

  // The annotator sees the comment on that sentence and resubmits.
  const annotator = await newPage(browser);
  await signIn(annotator, server, USERS.annotator);
  await annotator.getByRole("link", { name: "Returned", exact: true }).click();
  await annotator.getByRole("link", { name: `Revise task ${sub.task_id}` }).click();
  const mark = annotator.getByLabel("Your last round with comments").locator("mark");
  await mark.waitFor();
  assert.equal(await mark.textContent(), SENTENCE);
  assert.equal(await mark.getAttribute("title"), "Cite the guideline year.");
  await screenshot(annotator, "returned-work");
  const second = `${FIRST} (WHO guideline, 2021.)`;
  await annotator.getByLabel(/Your rewrite/).fill(second);
  await annotator.getByRole("button", { name: /Resubmit as round 2/ }).click();
  await annotator.getByRole("heading", { name: "Returned work" }).waitFor();
  sub = await wang.get(`/submissions/${submitted.id}`);
  assert.equal(sub.round, 2);
  assert.equal(sub.rounds[1].result.text, second);

  // The reviewer sees what changed and accepts (Shift+A).
  await reviewer.getByRole("button", { name: "Check again" }).click();
  await reviewer.getByRole("region", { name: "Changes since the previous round" }).waitFor();
  assert.match(await reviewer.getByRole("region", { name: "Text changes" }).locator("ins").first().textContent(), /WHO/);
  await screenshot(reviewer, "review-desk-round2");
  await reviewer.keyboard.press("Shift+A");
  await reviewer.getByText("Nothing is waiting for review in this pool.").waitFor();
  assert.equal((await wang.get(`/submissions/${submitted.id}`)).state, "accepted");

  // Paid: the balance grew by the pool's price, on the API and on the page.
  const afterBalance = (await wang.get("/me/earnings")).balance;
  assert.equal(afterBalance.amount_minor - before.amount_minor, pool.price.amount_minor);
  await annotator.getByRole("link", { name: "Earnings", exact: true }).click();
  const shown = await annotator.getByLabel("Balance").textContent();
  assert.equal(shown, `${(afterBalance.amount_minor / 100).toFixed(2)} CNY`);
  await screenshot(annotator, "earnings");
  assert.deepEqual(reviewer.pageErrors, []);
  assert.deepEqual(annotator.pageErrors, []);
});
