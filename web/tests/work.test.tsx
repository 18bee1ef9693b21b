// @vitest-environment happy-dom
// The work loop in a DOM: hotkeys are live as soon as a workspace shows, and a
// lease that answers with the claim on screen keeps the annotator's draft.
import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ClaimResponse, PoolDetail } from "../src/api";
import { Work } from "../src/pages/Work";
import { RewriteWorkspace } from "../src/workspaces/Text";

const api = vi.hoisted(() => ({ pool: vi.fn(), claim: vi.fn() }));
vi.mock("../src/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../src/api")>();
  return { ...real, Api: { ...real.Api, ...api } };
});

const POOL: PoolDetail = {
  id: 7,
  project_id: 1,
  name: "Rewrite the answer",
  task_type: "rewrite",
  config: {},
  price: { amount_minor: 50, currency: "EUR" },
  overlap: 1,
  lease_seconds: 600,
  max_rounds: 3,
  opens_at: null,
  state: "open",
  created_at: "2026-01-01T00:00:00Z",
  guidelines: "",
  can_claim: true,
  reasons: [],
};

/** A lease as the server sends it; a new object on every call, as fetch gives. */
function lease(claimId: number, taskId: number, response: string, expiresAt: string): ClaimResponse {
  return {
    claim: { id: claimId, task_id: taskId, pool_id: POOL.id, annotator_id: 3, state: "active", created_at: "2026-01-01T00:00:00Z", expires_at: expiresAt },
    task: { id: taskId, pool_id: POOL.id, data: { prompt: "Say it better.", response } },
  };
}

/** Waits (up to 2 s) until `get` returns something truthy, and returns it. */
async function until<T>(get: () => T | null | undefined | false): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = get();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("timed out");
}

function type(el: HTMLTextAreaElement, text: string) {
  el.value = text;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

let root: HTMLElement;
beforeEach(() => {
  root = document.createElement("main");
  document.body.appendChild(root);
  api.pool.mockReset();
  api.claim.mockReset();
});
afterEach(() => {
  render(null, root);
  root.remove();
});

describe("workspace hotkeys", () => {
  it("reach the workspace in the same task that shows it", () => {
    const task = lease(1, 1, "The original.", "2099-01-01T00:00:00Z").task;
    render(<RewriteWorkspace pool={POOL} task={task} value={{ text: "The original." }} onChange={() => {}} />, root);
    // No frame has passed: a key pressed now must already focus the editor.
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "e" }));
    expect(document.activeElement).toBe(root.querySelector("textarea.editor"));
  });
});

describe("Work", () => {
  it("keeps the draft when a lease answers with the claim on screen", async () => {
    // The lease has run out by this page's clock, so "Lease a task again" shows;
    // the server still holds the claim and answers with it again.
    const expired = "2000-01-01T00:00:00Z";
    api.pool.mockImplementation(async () => ({ ...POOL }));
    api.claim.mockImplementation(async () => lease(11, 5, "The original.", expired));
    render(<Work poolId={POOL.id} />, root);
    const editor = await until(() => root.querySelector<HTMLTextAreaElement>("textarea.editor"));
    expect(editor.value).toBe("The original.");
    type(editor, "My rewrite.");
    const again = await until(() => [...root.querySelectorAll("button")].find((b) => b.textContent === "Lease a task again"));
    again.click();
    await until(() => api.claim.mock.calls.length === 2 && !again.disabled);
    await new Promise((r) => setTimeout(r, 50));
    expect(root.querySelector<HTMLTextAreaElement>("textarea.editor")!.value).toBe("My rewrite.");
  });

  it("starts a new claim from its task's text", async () => {
    api.pool.mockImplementation(async () => ({ ...POOL }));
    api.claim
      .mockImplementationOnce(async () => lease(11, 5, "The original.", "2000-01-01T00:00:00Z"))
      .mockImplementationOnce(async () => lease(12, 6, "Another answer.", "2099-01-01T00:00:00Z"));
    render(<Work poolId={POOL.id} />, root);
    type(await until(() => root.querySelector<HTMLTextAreaElement>("textarea.editor")), "My rewrite.");
    (await until(() => [...root.querySelectorAll("button")].find((b) => b.textContent === "Lease a task again"))).click();
    const editor = await until(() => {
      const e = root.querySelector<HTMLTextAreaElement>("textarea.editor");
      return e?.value === "Another answer." && e;
    });
    expect(editor.value).toBe("Another answer.");
  });
});
