// The codec and the framing, without a daemon: frames split anywhere,
// unknown fields skipped, and every message byte-equal with Python's
// protobuf in both directions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  FrameDecoder, encodeFrame, ServerFrame, ClientFrame, HealthResponse, Event, ReserveRetrySlotRequest, messageTypes,
  ErrorDetail,
} from "../dist/src/index.js";
import { repoRoot, python } from "./daemon.mjs";

const hex = (bytes) => Buffer.from(bytes).toString("hex");
const fromHex = (h) => new Uint8Array(Buffer.from(h, "hex"));

function lengthPrefixed(body) {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

test("the HELLO and the Health call are the bytes of the protocol page", () => {
  assert.equal(hex(encodeFrame({ kind: "HELLO", protocolVersion: "PROTOCOL_VERSION_1" })), "0000000410013001");
  assert.equal(hex(encodeFrame({ kind: "CALL", callId: 1, method: "Health" })), "0000000c080110021a064865616c7468");
});

test("a stream of frames split at every byte boundary decodes to the same frames", () => {
  const frames = [
    { callId: 0, kind: "HELLO_ACK", protocolVersion: "PROTOCOL_VERSION_1", serverVersion: "0.1.0", maxMessageBytes: 4194304 },
    { callId: 1, kind: "REPLY", payload: HealthResponse.encode({ version: "0.1.0", pid: 42, state: "serving" }) },
    { callId: 2, kind: "REPLY" }, // an empty body is a valid frame
    { callId: 3, kind: "STREAM_MESSAGE", payload: new Uint8Array(300).fill(7) },
    { callId: 2 ** 40, kind: "REPLY", statusCode: 10, statusMessage: "build failed", payload: ErrorDetail.encode({ category: "build_failed", remedy: "fix it" }) },
  ];
  const bodies = frames.map((f) => ServerFrame.encode(f));
  bodies[2] = new Uint8Array(0);
  const stream = new Uint8Array(bodies.reduce((n, b) => n + 4 + b.length, 0));
  let offset = 0;
  for (const b of bodies) {
    stream.set(lengthPrefixed(b), offset);
    offset += 4 + b.length;
  }
  const want = bodies.map(hex);
  const decodeIn = (chunks) => {
    const got = [];
    const decoder = new FrameDecoder();
    for (const c of chunks) decoder.feed(c, (body) => got.push(hex(body)));
    assert.equal(decoder.buffered, 0);
    return got;
  };
  for (let cut = 0; cut <= stream.length; cut++) {
    assert.deepEqual(decodeIn([stream.subarray(0, cut), stream.subarray(cut)]), want, `cut at ${cut}`);
  }
  // Every pair of cuts around the frame boundaries, and one byte at a time.
  for (let a = 0; a < 40; a++) {
    for (let b = a; b < stream.length; b += 7) {
      assert.deepEqual(decodeIn([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]), want);
    }
  }
  assert.deepEqual(decodeIn([...stream].map((byte) => new Uint8Array([byte]))), want);
  // The caller may reuse its read buffer once feed returns (Node's onread):
  // pieces of every size through one buffer, overwritten each time.
  for (const size of [1, 2, 3, 5, 64, 100, 333]) {
    const reused = new Uint8Array(size);
    const got = [];
    const decoder = new FrameDecoder();
    for (let at = 0; at < stream.length; at += size) {
      const piece = stream.subarray(at, at + size);
      reused.set(piece);
      decoder.feed(reused.subarray(0, piece.length), (body) => got.push(hex(body)));
      reused.fill(0xee);
    }
    assert.deepEqual(got, want, `pieces of ${size} through one buffer`);
  }
  const decoded = ServerFrame.decode(bodies[4]);
  assert.equal(decoded.callId, 2 ** 40);
  assert.equal(decoded.statusCode, 10);
  assert.equal(ErrorDetail.decode(decoded.payload).remedy, "fix it");
});

test("a frame over the limit is refused before it is buffered", () => {
  const decoder = new FrameDecoder(1024);
  assert.throws(() => decoder.feed(new Uint8Array([0, 0, 8, 0, 1, 2]), () => {}), /over the limit/);
});

test("unknown fields of every wire type are skipped", () => {
  const known = HealthResponse.encode({ version: "0.1.0", uptimeSeconds: 2.5, pid: 7, state: "serving" });
  const unknown = fromHex(
    [
      "c803" + "ffffffffffffffffff01", // field 57, varint (10 bytes)
      "d103" + "0102030405060708", // field 58, fixed64
      "da03" + "03616263", // field 59, length-delimited
      "e503" + "01020304", // field 60, fixed32
      "eb03" + "0801" + "1203787878" + "ec03", // field 61, a group with fields inside
    ].join(""),
  );
  const mixed = new Uint8Array(unknown.length * 2 + known.length);
  mixed.set(unknown, 0);
  mixed.set(known, unknown.length);
  mixed.set(unknown, unknown.length + known.length);
  assert.deepEqual(HealthResponse.decode(mixed), HealthResponse.decode(known));
  assert.equal(HealthResponse.decode(mixed).pid, 7);
  // A field of a known number with an unexpected wire type is skipped too.
  assert.equal(HealthResponse.decode(fromHex("3d01020304" + hex(known))).pid, 7);
  assert.throws(() => HealthResponse.decode(fromHex("0a05616263")), /truncated/);
});

test("optional numbers: absent, and set to 0, are different on the wire", () => {
  assert.equal(hex(ReserveRetrySlotRequest.encode({ key: "k" })), "0a016b");
  assert.equal(hex(ReserveRetrySlotRequest.encode({ key: "k", exitCode: 0 })), "0a016b2000");
  assert.equal(ReserveRetrySlotRequest.decode(fromHex("0a016b")).exitCode, undefined);
  assert.equal(ReserveRetrySlotRequest.decode(fromHex("0a016b2000")).exitCode, 0);
  assert.equal(ReserveRetrySlotRequest.decode(fromHex("0a016b20ffffffffffffffffff01")).exitCode, -1);
});

function reviveTs(value) {
  if (Array.isArray(value)) return value.map(reviveTs);
  if (value && typeof value === "object") {
    if ("$bytes" in value) return fromHex(value.$bytes);
    if ("$bigint" in value) return BigInt(value.$bigint);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveTs(v)]));
  }
  return value;
}

test("every message is byte-equal with Python's protobuf, both ways", () => {
  const pyout = mkdtempSync("/tmp/sc-ts-py-");
  try {
    const proto = join(repoRoot, "proto/sidecar/v1");
    const gen = spawnSync("protoc", [`--proto_path=${proto}`, `--python_out=${pyout}`, "wire.proto", "sidecar.proto"], { encoding: "utf8" });
    assert.equal(gen.status, 0, gen.stderr);
    const script = join(repoRoot, "clients/typescript/test/pyproto.py");
    const samples = spawnSync(python, [script, "samples", pyout, "14", "40"], { encoding: "utf8", maxBuffer: 64 << 20 });
    assert.equal(samples.status, 0, samples.stderr);
    const lines = samples.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const seen = new Set(lines.map((l) => l.type));
    assert.deepEqual([...seen].sort(), Object.keys(messageTypes).sort(), "Python and TypeScript know the same messages");
    const back = [];
    for (const { type, hex: pyHex, fields } of lines) {
      const codec = messageTypes[type];
      const expected = reviveTs(fields);
      // Python -> TypeScript: the bytes decode to the fields Python set.
      assert.deepEqual(codec.decode(fromHex(pyHex)), expected, `${type} ${pyHex}`);
      // TypeScript -> bytes: the same fields encode to Python's bytes.
      const tsHex = hex(codec.encode(expected));
      assert.equal(tsHex, pyHex, `${type} ${JSON.stringify(fields)}`);
      back.push(JSON.stringify({ type, hex: tsHex, expectHex: pyHex }));
    }
    // TypeScript -> Python: Python reads the TypeScript bytes as the same message.
    const verify = spawnSync(python, [script, "verify", pyout], { input: back.join("\n") + "\n", encoding: "utf8", maxBuffer: 64 << 20 });
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stdout.trim(), `ok ${lines.length}`);
  } finally {
    rmSync(pyout, { recursive: true, force: true });
  }
});

test("events keep their attributes; maps are written sorted by key", () => {
  const a = Event.encode({ topic: "t", attributes: { b: "2", a: "1" } });
  const b = Event.encode({ topic: "t", attributes: { a: "1", b: "2" } });
  assert.equal(hex(a), hex(b));
  assert.deepEqual(Event.decode(a).attributes, { a: "1", b: "2" });
  assert.equal(ClientFrame.decode(ClientFrame.encode({ callId: 2n ** 63n + 5n })).callId, 2n ** 63n + 5n);
});
