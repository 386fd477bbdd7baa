// The TypeScript client's load generator, for scripts/bench.sh (bench_ts):
//
//   node bench/bench.mjs --socket PATH [--method Health|EnsureImage]
//        [--depth D] [--seconds S] [--warmup S]
//
// One SidecarClient (one connection) keeps D calls in flight (D=1:
// sequential) for the warm-up plus S seconds, through the public API
// (health(), ensureImage(LOADGEN_IMAGE or "agent")), and prints one line
// in loadgen's format:
//
//   calls=123456 seconds=5.00 calls_per_s=24691 p50_us=19.5 p99_us=41.2
//
// Latency is from the call to its promise resolving. Every answer is
// checked: a failed call, or an EnsureImage that is not PRESENT, ends the
// run with exit 1.
import { SidecarClient } from "../dist/src/index.js";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const socketPath = flag("--socket");
const method = flag("--method", "Health");
const depth = Number(flag("--depth", "1"));
const seconds = Number(flag("--seconds", "5"));
const warmup = Number(flag("--warmup", "1"));
const image = process.env.LOADGEN_IMAGE ?? "agent";
if (!socketPath) {
  console.error("usage: bench.mjs --socket PATH [--method Health|EnsureImage] [--depth D] [--seconds S] [--warmup S]");
  process.exit(64);
}

const client = new SidecarClient({ socketPath, clientName: "ts-bench" });
const call =
  method === "Health"
    ? () => client.health()
    : method === "EnsureImage"
      ? () => client.ensureImage(image).then((r) => {
          if (r.outcome !== "PRESENT") throw new Error(`EnsureImage answered ${r.outcome}`);
        })
      : null;
if (!call) {
  console.error(`bench.mjs: unknown method ${method}`);
  process.exit(64);
}

await call(); // connected, and the answer is what it should be
// performance.now(): milliseconds as a double, sub-microsecond resolution,
// and no allocation (a bigint per read would be).
const now = () => performance.now();
const start = now();
const measureFrom = start + warmup * 1000;
const end = measureFrom + seconds * 1000;
let latencies = new Float64Array(1 << 20);
let count = 0;

async function worker() {
  for (;;) {
    const t0 = now();
    if (t0 >= end) return;
    await call();
    if (t0 >= measureFrom) {
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = (now() - t0) * 1000;
    }
  }
}
try {
  await Promise.all(Array.from({ length: depth }, worker));
} catch (error) {
  console.error(`bench.mjs: ${method} failed: ${error.message}`);
  process.exit(1);
}
const elapsed = (now() - measureFrom) / 1000;
client.close();
const sorted = latencies.subarray(0, count).sort();
const pct = (p) => sorted[Math.min(count - 1, Math.floor((count * p) / 100))] ?? 0;
console.log(
  `calls=${count} seconds=${elapsed.toFixed(2)} calls_per_s=${Math.round(count / elapsed)} p50_us=${pct(50).toFixed(1)} p99_us=${pct(99).toFixed(1)}`,
);
