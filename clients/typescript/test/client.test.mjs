// SidecarClient against a real sidecard (the built .build/debug/sidecard)
// on a temp socket: every method, deadlines, cancellation, multiplexing,
// a daemon killed and restarted, no daemon, Watch, the size limit.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { openSync, writeSync, closeSync } from "node:fs";
import { spawn } from "node:child_process";
import { SidecarClient, SidecarError, methods, processStartTime } from "../dist/src/index.js";
import { Daemon, eventually } from "./daemon.mjs";

const NEVER_PULL = 'Container image "optio-node:latest" is not present with pull policy of Never';

async function rejects(promise, code) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SidecarError, `not a SidecarError: ${error}`);
    assert.equal(error.code, code, `${error.code}: ${error.message}`);
    return error;
  }
  assert.fail(`resolved; expected ${code}`);
}

function overwrite(path, offset, bytes) {
  const fd = openSync(path, "r+");
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}

describe("against one daemon", () => {
  let daemon;
  let client;
  before(async () => {
    daemon = await new Daemon({
      images: ["agent", "broken", "noisy"],
      // A build that fails after 200 KB of output: its answer is larger than one read.
      builds: { noisy: ["/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo \"line $i: $(printf '%090d' $i)\"; i=$((i+1)); done; exit 1"] },
      databases: "streak_threshold = 3",
      extra: '[retry.policy.fast]\nmax_attempts = 2\nbase_delay = "0"\nmax_delay = "0"\n',
    }).start();
    client = new SidecarClient({ socketPath: daemon.socketPath, clientName: "ts-test" });
  });
  after(async () => {
    client?.close();
    await daemon?.stop();
  });

  test("health, classify, metrics, reload", async () => {
    const health = await client.health();
    assert.equal(health.state, "serving");
    assert.equal(health.pid, daemon.process.pid);
    assert.match(health.imagePresence, /^ttl: /, "the command backend hears of no changes");
    // No [fleet] in the config: fleet mode is off.
    assert.deepEqual(
      [health.fleetState, health.fleetHostId, health.fleetReason, health.fleetDegradedSinceUnixMs],
      ["", "", "", 0],
    );
    assert.deepEqual([health.fleetClaims, health.fleetWaits], [[], []]);
    assert.match(client.serverVersion, /^\d+\.\d+/);
    const verdict = await client.classify(NEVER_PULL);
    assert.equal(verdict.category, "image_missing");
    assert.equal(verdict.permanent, true);
    assert.doesNotMatch(verdict.remedy, /optio-node:latest/, "never a reference read from the message");
    assert.equal(verdict.retryAfterSeconds, 0);
    const named = await client.classify(NEVER_PULL, { image: "registry.local/agent:7" });
    assert.match(named.remedy, /sidecarctl ensure-image registry\.local\/agent:7/);
    const limited = await client.classify("toomanyrequests: retry-after: 1.5s, allowed: 44000/minute");
    assert.equal(limited.category, "rate_limited");
    assert.equal(limited.permanent, false);
    assert.equal(limited.retryAfterSeconds, 1.5);
    assert.equal((await client.classify("toomanyrequests: slow down")).retryAfterSeconds, 60);
    const rules = await client.listRules();
    assert.equal(rules[0].id, "builtin:err-image-never-pull");
    const byId = new Map(rules.map((r) => [r.id, r]));
    assert.equal(byId.get("builtin:rate-limited").retryAfterSeconds, 60);
    assert.equal(byId.get("builtin:container-runtime-exit-125").exitCode, 125);
    assert.equal(byId.get("builtin:rate-limited").exitCode, undefined);
    assert.deepEqual(byId.get("builtin:sqlite-corrupt-code").sqliteCodes, [11, 26]);
    const byExit = await client.classify("", { exitCode: 125 });
    assert.equal(byExit.category, "container_runtime");
    await rejects(client.classify(""), "INVALID_ARGUMENT");
    const metrics = await client.metrics();
    assert.match(metrics.text, /# TYPE /);
    const reloaded = await client.reload();
    assert.equal(reloaded.configPath, daemon.configPath);
  });

  test("images: ensure, coalesce, list, failure with output and remedy, prune, leases", async () => {
    const first = await client.ensureImage("agent");
    assert.equal(first.outcome, "BUILT");
    assert.equal(first.ref, "localhost/agent:latest");
    const again = await client.ensureImage("agent", { leaseHolder: "runner-1", leaseTtlSeconds: 60 });
    assert.equal(again.outcome, "PRESENT");
    assert.equal(again.lease.holder, "runner-1");
    assert.ok(again.lease.expiresUnixMs > Date.now());
    const images = await client.listImages();
    assert.deepEqual(images.map((i) => i.name).sort(), ["agent", "broken", "noisy"]);
    assert.equal(images.find((i) => i.name === "agent").present, true);

    daemon.setFlag("broken", "fail");
    // No rule knows the build's output: transient, UNAVAILABLE.
    const failure = await rejects(client.ensureImage("broken"), "UNAVAILABLE");
    assert.match(failure.message, /no space left in the test/);
    assert.ok(failure.detail, "an ErrorDetail");
    assert.ok(failure.detail.category.length > 0);
    assert.ok(failure.detail.remedy.length > 0);
    const backingOff = await rejects(client.ensureImage("broken"), "UNAVAILABLE");
    assert.match(backingOff.message, /backing off/);
    assert.ok(backingOff.detail?.retryAfterSeconds > 0, JSON.stringify(backingOff.detail));
    await rejects(client.ensureImage("-bad ref"), "INVALID_ARGUMENT");

    const lease = await client.acquireLease({ target: "agent", holder: "runner-2", ttlSeconds: 30 });
    assert.ok(lease.id);
    assert.ok((await client.listLeases()).some((l) => l.id === lease.id));
    const pruned = await client.prune({ dryRun: true });
    assert.ok(!pruned.removed.includes("agent"));
    assert.equal(typeof pruned.bytesFreed, "number");
    const scrub = await rejects(client.scrub(), "FAILED_PRECONDITION");
    assert.match(scrub.message, /oci-layout/);
    await client.releaseLease(lease.id);
    assert.ok(!(await client.listLeases()).some((l) => l.id === lease.id));
    await rejects(client.releaseLease(lease.id), "NOT_FOUND");

    // Bound to a process: no time limit, and it ends when the process does.
    const holder = spawn("sleep", ["60"]);
    try {
      const bound = await client.acquireLease({ target: "agent", holder: "container/ts", ttlSeconds: 0, holderPid: holder.pid });
      assert.equal(bound.holderPid, holder.pid);
      assert.equal(BigInt(bound.holderStartTime), processStartTime(holder.pid));
      assert.equal(bound.expiresUnixMs, 0);
      holder.kill("SIGKILL");
      assert.ok(await eventually(async () => !(await client.listLeases()).some((l) => l.id === bound.id), 2000), "ended with its holder");
    } finally {
      holder.kill("SIGKILL");
    }
  });

  test("an answer larger than one read (a failed build's 64 KiB of output) arrives whole, among others", async () => {
    const noisy = client.ensureImage("noisy").catch((e) => e);
    const others = Array.from({ length: 20 }, () => client.health());
    const error = await noisy;
    assert.ok(error instanceof SidecarError);
    assert.equal(error.code, "UNAVAILABLE");
    assert.ok(error.message.length > 60000, `${error.message.length} bytes`);
    assert.match(error.message, /line 1999: 0+1999\n?/);
    assert.ok(error.detail?.remedy);
    for (const h of await Promise.all(others)) assert.equal(h.state, "serving");
  });

  test("retries: denied at once for ErrImageNeverPull, granted, exhausted, listed, reset", async () => {
    const denied = await client.reserveRetrySlot({ key: "provision:t1", error: NEVER_PULL, policy: "fast", image: "optio-node:latest" });
    assert.equal(denied.decision, "DENIED_PERMANENT");
    assert.equal(denied.category, "image_missing");
    assert.match(denied.remedy, /sidecarctl ensure-image optio-node:latest/);

    const granted = await client.reserveRetrySlot({ key: "provision:t2", error: "connection reset", policy: "fast", exitCode: 1 });
    assert.equal(granted.decision, "GRANTED");
    assert.equal(granted.attempt, 1);
    assert.equal(typeof granted.delaySeconds, "number");
    assert.equal(granted.answeredLocally, false, "no fleet: the host's own ledger is the only one");
    await client.completeAttempt({ key: "provision:t2", success: false, error: "connection reset again" });
    const second = await client.reserveRetrySlot({ key: "provision:t2", error: "connection reset", policy: "fast" });
    assert.equal(second.decision, "GRANTED");
    assert.equal(second.attempt, 2);
    await client.completeAttempt({ key: "provision:t2", success: false, error: "still" });
    const exhausted = await client.reserveRetrySlot({ key: "provision:t2", error: "connection reset", policy: "fast" });
    assert.equal(exhausted.decision, "EXHAUSTED");
    assert.equal(exhausted.attempts, 2);

    const retries = await client.listRetries({ keyPrefix: "provision:" });
    assert.deepEqual(retries.map((r) => r.key).sort(), ["provision:t1", "provision:t2"]);
    assert.equal(retries.find((r) => r.key === "provision:t1").state, "failed");
    const policies = await client.listPolicies();
    assert.ok(policies.some((p) => p.name === "fast" && p.maxAttempts === 2));
    await client.resetRetry("provision:t1");
    assert.equal((await client.listRetries({ keyPrefix: "provision:t1" })).length, 0);
    await rejects(client.resetRetry("provision:t1"), "NOT_FOUND");
    await rejects(client.completeAttempt({ key: "nope", success: true }), "NOT_FOUND");
    await rejects(client.reserveRetrySlot({ key: "", error: "x" }), "INVALID_ARGUMENT");
  });

  test("databases: checkDb verdicts of real files, confinement, the streak", async () => {
    const healthy = daemon.makeDatabase("healthy.db");
    const ok = await client.checkDb(healthy, { full: true });
    assert.equal(ok.verdict, "OK");
    assert.equal(ok.resolvedPath, healthy);
    const damaged = daemon.makeDatabase("damaged.db", 2000);
    overwrite(damaged, 4096 * 20, new Uint8Array(4096).map(() => Math.floor(Math.random() * 256)));
    const corrupt = await client.checkDb(damaged);
    assert.equal(corrupt.verdict, "CORRUPT");
    assert.ok(corrupt.messages.length > 0);
    assert.equal((await client.checkDb(daemon.dbRoot + "/missing.db")).verdict, "MISSING");
    const outside = await rejects(client.checkDb("/etc/passwd"), "PERMISSION_DENIED");
    assert.match(outside.message, /^OUTSIDE_ROOTS:/);
    assert.equal(outside.detail?.category, "outside_roots");

    const malformed = "database disk image is malformed";
    const one = await client.reportDbError({ path: healthy, clientId: "runner-7", error: malformed });
    assert.equal(one.action, "CONTINUE");
    assert.equal(one.streak, 1);
    assert.equal(one.threshold, 3);
    await client.reportDbError({ path: healthy, clientId: "runner-7", sqliteCode: 11 });
    const torn = await client.reportDbError({ path: healthy, clientId: "runner-7", error: malformed });
    assert.equal(torn.action, "EXIT_TEMPFAIL");
    assert.equal(torn.verdict, "OK");
    const reset = await client.reportDbError({ path: healthy, clientId: "runner-7", ok: true });
    assert.equal(reset.streak, 0);
    for (let i = 0; i < 2; i++) await client.reportDbError({ path: damaged, clientId: "runner-8", sqliteCode: 11 });
    const really = await client.reportDbError({ path: damaged, clientId: "runner-8", sqliteCode: 11 });
    assert.equal(really.action, "CORRUPT");
    assert.ok(really.remedy.length > 0);
  });

  test("a deadline goes on the wire: DEADLINE_EXCEEDED from the daemon", async () => {
    const started = Date.now();
    const error = await rejects(client.debugSleep(5000, { timeoutMs: 100 }), "DEADLINE_EXCEEDED");
    assert.ok(Date.now() - started < 900, `took ${Date.now() - started} ms`);
    assert.doesNotMatch(error.message, /did not enforce/);
    assert.ok((await client.debugSleep(10, { timeoutMs: 2000 })).sleptSeconds > 0);
  });

  test("an aborted signal sends CANCEL and rejects at once", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const sleeping = client.debugSleep(10000, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await rejects(sleeping, "CANCELLED");
    assert.ok(Date.now() - started < 1000);
    // The daemon stopped it too: nothing but this Health is in flight.
    assert.ok(await eventually(async () => (await client.health()).inflightCalls === 1, 3000));
    const already = new AbortController();
    already.abort();
    await rejects(client.health({ signal: already.signal }), "CANCELLED");
  });

  test("concurrent calls made before the connection is open each send their own request", async () => {
    const fresh = new SidecarClient({ socketPath: daemon.socketPath });
    try {
      const calls = Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0 ? fresh.classify("", { exitCode: 125 }) : fresh.classify(NEVER_PULL),
      );
      const answers = await Promise.all(calls);
      answers.forEach((a, i) => assert.equal(a.category, i % 2 === 0 ? "container_runtime" : "image_missing", `call ${i}`));
    } finally {
      fresh.close();
    }
  });

  test("100 concurrent calls on one connection, answered out of order", async () => {
    const order = [];
    const calls = [];
    for (let i = 0; i < 100; i++) {
      calls.push(client.debugSleep((100 - i) * 4, { timeoutMs: 10000 }).then(() => order.push(i)));
    }
    const health = await client.health();
    assert.equal(health.connections, 1, "one connection");
    assert.ok(health.inflightCalls > 50, `in flight: ${health.inflightCalls}`);
    await Promise.all(calls);
    assert.equal(order.length, 100);
    assert.notDeepEqual(order, [...order].sort((a, b) => a - b), "answered in another order than asked");
    assert.equal(order[0], 99, "the shortest sleep, asked last, answered first");
  });

  test("Watch receives image and retry events", async () => {
    const controller = new AbortController();
    const stream = client.watch(["image.", "retry."], { signal: controller.signal });
    await client.health(); // the Watch call is in before anything that makes events
    daemon.removeImage("agent");
    const topics = new Set();
    const reading = (async () => {
      for await (const event of stream) {
        topics.add(event.topic);
        assert.ok(event.timeUnixMs > Date.now() - 60000);
        if (topics.has("image.job.finished") && topics.has("retry.denied")) return event;
      }
    })();
    const timer = setTimeout(() => controller.abort(), 10000);
    // The presence cache trusts a check for presence_ttl; a build may take
    // a moment to be asked for: ask until it was rebuilt.
    await eventually(async () => (await client.ensureImage("agent")).outcome !== "PRESENT" || daemon.builds("agent") > 1, 8000);
    await client.reserveRetrySlot({ key: "watch:1", error: NEVER_PULL });
    await reading;
    clearTimeout(timer);
    stream.close();
    assert.ok(topics.has("image.job.started"), [...topics].join(","));
    assert.ok(topics.has("retry.denied"), [...topics].join(","));
    // Closing the stream cancelled the Watch call on the daemon too.
    assert.ok(await eventually(async () => (await client.health()).inflightCalls === 1, 3000));
  });
});

describe("a daemon that goes away", () => {
  test("killed and restarted between calls: the next call reconnects", async () => {
    const daemon = await new Daemon().start();
    const client = new SidecarClient({ socketPath: daemon.socketPath, connectRetryMs: 5000 });
    try {
      const before = await client.health();
      await daemon.kill();
      await daemon.start();
      const afterRestart = await client.health();
      assert.notEqual(afterRestart.pid, before.pid);
      assert.equal(afterRestart.connections, 1);
    } finally {
      client.close();
      await daemon.stop();
    }
  });

  test("killed during a call: the call rejects UNAVAILABLE naming the socket, at once", async () => {
    const daemon = await new Daemon().start();
    const client = new SidecarClient({ socketPath: daemon.socketPath });
    try {
      await client.health();
      const sleeping = rejects(client.debugSleep(20000), "UNAVAILABLE");
      const streamEnd = rejects(client.watch([]).next(), "UNAVAILABLE");
      await client.health();
      const killedAt = Date.now();
      await daemon.kill();
      const error = await sleeping;
      assert.ok(error.message.includes(daemon.socketPath), error.message);
      assert.ok(Date.now() - killedAt < 1000);
      await streamEnd;
      // Nobody listening now: the next call tries to connect, and fails.
      await rejects(new SidecarClient({ socketPath: daemon.socketPath, connectRetryMs: 50 }).health(), "UNAVAILABLE");
      await daemon.start();
      assert.equal((await client.health()).state, "serving");
    } finally {
      client.close();
      await daemon.stop();
    }
  });

  test("SIGTERM: a call in flight finishes, GOAWAY closes, the next call reconnects", async () => {
    const daemon = await new Daemon().start();
    const client = new SidecarClient({ socketPath: daemon.socketPath, connectRetryMs: 5000 });
    try {
      const sleeping = client.debugSleep(300);
      await client.health();
      daemon.process.kill("SIGTERM");
      const slept = await sleeping;
      assert.ok(slept.sleptSeconds >= 0.25, `slept ${slept.sleptSeconds} s`);
      await daemon.exited;
      await daemon.start();
      assert.equal((await client.health()).state, "serving");
    } finally {
      client.close();
      await daemon.stop();
    }
  });

  test("a daemon that stops answering: the local deadline ends the call a second after timeoutMs", async () => {
    const daemon = await new Daemon().start();
    const client = new SidecarClient({ socketPath: daemon.socketPath });
    try {
      await client.health();
      daemon.process.kill("SIGSTOP");
      const started = Date.now();
      const error = await rejects(client.health({ timeoutMs: 200 }), "DEADLINE_EXCEEDED");
      const took = Date.now() - started;
      assert.ok(took >= 1100 && took < 3000, `took ${took} ms`);
      assert.match(error.message, /did not enforce/);
      daemon.process.kill("SIGCONT");
      assert.equal((await client.health()).state, "serving");
    } finally {
      daemon.process.kill("SIGCONT");
      client.close();
      await daemon.stop();
    }
  });

  test("no daemon at all: UNAVAILABLE naming the socket", async () => {
    const socketPath = "/tmp/sc-ts-none/sidecar.sock";
    const client = new SidecarClient({ socketPath, connectRetryMs: 100 });
    const started = Date.now();
    const error = await rejects(client.health(), "UNAVAILABLE");
    assert.ok(error.message.includes(socketPath), error.message);
    assert.ok(Date.now() - started < 2000);
    const sleeping = await rejects(client.watch(["x"]).next(), "UNAVAILABLE");
    assert.ok(sleeping.message.includes(socketPath));
  });
});

test("a request over max_message_bytes is answered RESOURCE_EXHAUSTED; the connection goes on", async () => {
  const daemon = await new Daemon({ extra: "[limits]\nmax_message_bytes = 65536\n" }).start();
  const client = new SidecarClient({ socketPath: daemon.socketPath });
  try {
    const before = await client.health();
    const error = await rejects(client.classify("x".repeat(200000)), "RESOURCE_EXHAUSTED");
    assert.ok(error.message.length > 0);
    const afterwards = await client.health();
    assert.equal(afterwards.connections, 1);
    assert.equal(afterwards.pid, before.pid);
    assert.equal((await client.classify("x".repeat(1000))).category, "unknown");
  } finally {
    client.close();
    await daemon.stop();
  }
});

/** sidecar_calls_total{method, code="OK"} of the daemon. */
async function callsTotal(client, method) {
  const { text } = await client.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`sidecar_calls_total{method="${method}",code="OK"} `));
  return line ? Number(line.split(" ").pop()) : 0;
}

test("the list methods follow the pages: 150 keys of 2 KB under a 64 KiB message limit", async () => {
  const daemon = await new Daemon({ images: ["app", "base", "tools"], extra: "[limits]\nmax_message_bytes = 65536\n" }).start();
  const client = new SidecarClient({ socketPath: daemon.socketPath });
  try {
    const longError = "connection reset by peer " + "x".repeat(1000);
    const keys = Array.from({ length: 150 }, (_, i) => `task-${String(i).padStart(3, "0")}`);
    // Made in reverse: the order listed is the daemon's, by key.
    await Promise.all([...keys].reverse().map((key) => client.reserveRetrySlot({ key, error: longError })));

    const first = await client.call(methods.ListRetries, {});
    assert.ok(first.retries.length > 0 && first.retries.length < 150, `one page of ${first.retries.length}`);
    assert.notEqual(first.nextPageToken, "");
    let before = await callsTotal(client, "ListRetries");
    const retries = await client.listRetries();
    const pages = (await callsTotal(client, "ListRetries")) - before;
    assert.deepEqual(retries.map((r) => r.key), keys, "every key once, in key order");
    assert.ok(pages > 1, `${pages} page(s)`);
    for (const r of retries) {
      assert.equal(r.lastError, longError);
      assert.equal(r.ownerUid, process.getuid());
    }

    before = await callsTotal(client, "ListRetries");
    const some = [];
    for await (const r of client.iterRetries({ keyPrefix: "task-1", pageSize: 7 })) some.push(r.key);
    assert.deepEqual(some, keys.slice(100));
    assert.equal((await callsTotal(client, "ListRetries")) - before, 8, "50 keys, 7 a page, the filter on every page");

    const lease = await client.acquireLease({ target: "app", holder: "runner-9", ttlSeconds: 60 });
    assert.equal(lease.ownerUid, process.getuid());
    const leases = [];
    for await (const l of client.iterLeases({ pageSize: 1 })) leases.push([l.id, l.ownerUid]);
    assert.deepEqual(leases, [[lease.id, process.getuid()]]);
    const names = [];
    for await (const image of client.iterImages({ pageSize: 2 })) names.push(image.name);
    assert.deepEqual(names, ["app", "base", "tools"]);
    assert.deepEqual((await client.listImages()).map((i) => i.name), names);

    const imagesPage = await client.call(methods.ListImages, { pageSize: 2 });
    for (const pageToken of [imagesPage.nextPageToken, "not base64!", "QUJD"]) {
      await rejects(client.call(methods.ListRetries, { pageToken }), "INVALID_ARGUMENT");
    }
  } finally {
    client.close();
    await daemon.stop();
  }
});
