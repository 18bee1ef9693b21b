// Browser-test harness: a real `tessera serve` on a free loopback port with a
// temp SQLite database seeded with the demo, Debian's chromium driven by
// playwright-core, a small API client, and screenshots under build/e2e.
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const SOURCE = process.env.TESSERA_SOURCE_DIR ?? resolve(import.meta.dirname, "../..");
const BIN = process.env.TESSERA_BIN ?? join(SOURCE, "build/tessera");
const WEB = process.env.TESSERA_WEB ?? join(SOURCE, "build/web");
export const OUT = process.env.TESSERA_E2E_OUT ?? join(SOURCE, "build/e2e");

/** Demo accounts (src/tessera/cli/demo.cc). */
export const USERS = {
  admin: ["admin", "demo-admin-1"],
  requester: ["lin", "demo-requester-1"],
  annotator: ["wang", "demo-annotator-1"],
  annotator2: ["zhou", "demo-annotator-2"],
  reviewer: ["sun", "demo-reviewer-1"],
};

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/**
 * Starts `tessera serve --demo` on a temp database and a temp copy of the demo
 * media (uploads write into the media root). Call stop() in an after() hook.
 */
export async function startServer({ env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "tessera-e2e-"));
  const media = join(dir, "media");
  cpSync(join(SOURCE, "demo/media"), media, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    BIN,
    ["serve", "--db", `sqlite://${join(dir, "tessera.db")}`, "--listen", `127.0.0.1:${port}`, "--media", media, "--demo"],
    { env: { ...process.env, TESSERA_WEB: WEB, TESSERA_LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "pipe"], cwd: SOURCE },
  );
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const exited = new Promise((ok) => child.on("exit", (code) => ok(code)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tessera serve exited (${child.exitCode}):\n${log}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`tessera serve did not become ready in 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dir,
    media,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's chromium, headless, with nothing fetched from the network. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** A new page at 1280×720 (the smallest screen we promise to work on). */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  page.pageErrors = errors;
  return page;
}

/** Signs in through the form and waits for the app shell. */
export async function signIn(page, server, [username, password]) {
  await page.goto(server.url + "/");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** Saves a full-page screenshot as build/e2e/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: false });
}

/** A JSON API client signed in as `user` ([username, password]). */
export async function apiAs(server, [username, password]) {
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!login.ok) throw new Error(`login ${username}: ${login.status} ${await login.text()}`);
  const { token } = await login.json();
  const call = async (method, path, body, headers = {}) => {
    const r = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    const json = text ? JSON.parse(text) : null;
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return json;
  };
  return {
    token,
    get: (path) => call("GET", path),
    post: (path, body, headers) => call("POST", path, body ?? {}, headers),
    del: (path) => call("DELETE", path),
  };
}

/** The demo pool of a task type (lin's project). */
export async function demoPool(api, taskType) {
  const { pools } = await api.get("/pools");
  const pool = pools.find((p) => p.task_type === taskType);
  if (!pool) throw new Error(`no demo pool of type ${taskType}`);
  return pool;
}
