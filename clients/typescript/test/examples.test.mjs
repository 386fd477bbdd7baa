// The examples, run as a runner would run them, against a real sidecard.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { openSync, writeSync, closeSync, readFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { SidecarClient } from "../dist/src/index.js";
import { Daemon } from "./daemon.mjs";

const examples = join(dirname(fileURLToPath(import.meta.url)), "../dist/examples");
const NEVER_PULL = 'Failed to pull image: Container image "optio-node:latest" is not present with pull policy of Never (ErrImageNeverPull)';

function run(daemon, example, args, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(examples, example), ...args], {
      env: { ...process.env, SIDECAR_SOCKET: daemon.socketPath },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${example} did not end within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("examples", () => {
  let daemon;
  before(async () => {
    daemon = await new Daemon({
      images: ["agent", "broken"],
      databases: "streak_threshold = 3",
      extra: [
        '[retry.policy.fast]\nmax_attempts = 2\nbase_delay = "0"\nmax_delay = "0"',
        '[retry.policy.short]\nmax_attempts = 3\nbase_delay = "100ms"\nmax_delay = "100ms"',
      ].join("\n"),
    }).start();
  });
  after(async () => {
    await daemon?.stop();
  });

  test("seed 002: 200 concurrent spawns of a missing image run one build", async () => {
    assert.equal(daemon.isPresent("agent"), false);
    const result = await run(daemon, "spawn-container.js", ["agent", "200"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^spawned=200 failed=0 built=200 coalesced=199 /);
    assert.equal(daemon.builds("agent"), 1);
    assert.equal(daemon.isPresent("agent"), true);
  });

  test("seed 002: a failing build rejects every spawn with its output and remedy", async () => {
    daemon.setFlag("broken", "fail");
    const result = await run(daemon, "spawn-container.js", ["broken", "200"]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^spawned=0 failed=200 built=0 coalesced=0 with_remedy=200/);
    assert.match(result.stderr, /UNAVAILABLE/);
    assert.match(result.stderr, /no space left in the test/);
    assert.match(result.stderr, /remedy: \S/);
    assert.equal(daemon.builds("broken"), 1);
  });

  test("seed 001: a torn view (errors on an intact file) exits 75", async () => {
    const db = daemon.makeDatabase("inbound.db");
    const result = await run(daemon, "db-poll-loop.js", [
      "--db", db, "--client", "agent-1", "--interval-ms", "10", "--",
      "sh", "-c", "echo 'Error: database disk image is malformed' >&2; exit 1",
    ]);
    assert.equal(result.code, 75, result.stderr);
    assert.match(result.stderr, /EXIT_TEMPFAIL/);
    assert.equal((result.stderr.match(/poll failed/g) ?? []).length, 3, "one report per error, up to the threshold");
  });

  test("seed 001: a really corrupt file stops the loop with the remedy", async () => {
    const db = daemon.makeDatabase("outbound.db", 2000);
    const fd = openSync(db, "r+");
    const garbage = new Uint8Array(4096 * 8).map(() => Math.floor(Math.random() * 256));
    writeSync(fd, garbage, 0, garbage.length, 4096 * 10);
    closeSync(fd);
    const result = await run(daemon, "db-poll-loop.js", [
      "--db", db, "--client", "agent-2", "--interval-ms", "10", "--",
      "sqlite3", db, "SELECT count(*), sum(length(body)) FROM items",
    ]);
    assert.equal(result.code, 65, result.stderr);
    assert.match(result.stderr, /malformed/);
    assert.match(result.stderr, /really corrupt: \S/);
  });

  test("seed 001: good polls end the loop with 0", async () => {
    const db = daemon.makeDatabase("fine.db");
    const result = await run(daemon, "db-poll-loop.js", ["--db", db, "--client", "agent-3", "--interval-ms", "1", "--polls", "3", "--", "sqlite3", db, "SELECT count(*) FROM items"]);
    assert.equal(result.code, 0, result.stderr);
  });

  test("seed 003: ErrImageNeverPull is denied at once, with the remedy", async () => {
    const counter = join(daemon.dir, "attempts-denied");
    const result = await run(daemon, "provision-retry.js", [
      "--key", "provision:task-1", "--policy", "fast", "--",
      "sh", "-c", `echo run >> ${counter}; echo '${NEVER_PULL}' >&2; exit 1`,
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /permanent failure \(image_missing\)/);
    assert.match(result.stderr, /remedy: .*ensure-image/);
    assert.equal(readFileSync(counter, "utf8"), "run\n", "one attempt, no retry");
  });

  test("seed 003: a transient failure is retried up to the cap, then EXHAUSTED", async () => {
    const counter = join(daemon.dir, "attempts-exhausted");
    const result = await run(daemon, "provision-retry.js", [
      "--key", "provision:task-2", "--policy", "fast", "--",
      "sh", "-c", `echo run >> ${counter}; echo 'connection reset by peer' >&2; exit 1`,
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /gave up after 2 retries \(EXHAUSTED\)/);
    assert.equal(readFileSync(counter, "utf8"), "run\nrun\nrun\n", "the first try and two retries");
  });

  test("seed 003: a granted retry waits its delay, then succeeds", async () => {
    const counter = join(daemon.dir, "attempts-ok");
    const started = Date.now();
    const result = await run(daemon, "provision-retry.js", [
      "--key", "provision:task-3", "--policy", "short", "--",
      "sh", "-c", `echo run >> ${counter}; [ "$(wc -l < ${counter})" -ge 3 ] || { echo 'i/o timeout' >&2; exit 1; }`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /provisioned after 3 attempt/);
    const delays = [...result.stderr.matchAll(/retrying in ([\d.]+) s/g)].map((m) => Number(m[1]));
    assert.equal(delays.length, 2);
    assert.ok(Date.now() - started >= delays.reduce((a, b) => a + b, 0) * 1000);
    const client = new SidecarClient({ socketPath: daemon.socketPath });
    const [info] = await client.listRetries({ keyPrefix: "provision:task-3" });
    client.close();
    assert.equal(info.state, "succeeded");
  });
});
