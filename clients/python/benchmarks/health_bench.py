#!/usr/bin/env python3
"""Health calls from the Python client, timed one by one; prints one line
in the format of scripts/bench/loadgen.c:

  calls=N seconds=S calls_per_s=R p50_us=P p99_us=Q

  health_bench.py --socket SOCK --mode sync [--seconds 5] [--warmup 1]
      one blocking Client, one call after the other
  health_bench.py --socket SOCK --mode async --concurrency 64 [...]
      one AsyncClient, 64 tasks each calling in a loop (64 in flight)

scripts/bench.sh (section "python") runs it next to loadgen.
"""
import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sidecar_client import AsyncClient, Client  # noqa: E402


def summary(latencies_ns, seconds):
    latencies_ns.sort()
    count = len(latencies_ns)
    if count == 0:
        sys.exit("health_bench: no call finished")

    def pct(p):
        return latencies_ns[min(count - 1, int(count * p))] / 1000

    return f"calls={count} seconds={seconds:.2f} calls_per_s={count / seconds:.0f} p50_us={pct(0.50):.1f} p99_us={pct(0.99):.1f}"


def run_sync(socket_path, warmup, seconds):
    clock = time.perf_counter_ns
    with Client(socket_path, client_name="health-bench") as client:
        health = client.health
        end_warmup = clock() + int(warmup * 1e9)
        while clock() < end_warmup:
            health()
        latencies = []
        record = latencies.append
        start = clock()
        end = start + int(seconds * 1e9)
        now = start
        while now < end:
            health()
            after = clock()
            record(after - now)
            now = after
        return summary(latencies, (now - start) / 1e9)


async def run_async(socket_path, warmup, seconds, concurrency):
    clock = time.perf_counter_ns
    async with AsyncClient(socket_path, client_name="health-bench") as client:
        latencies = []
        measuring = False
        stop = False

        async def worker():
            while not stop:
                before = clock()
                await client.health()
                if measuring:
                    latencies.append(clock() - before)

        workers = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
        await asyncio.sleep(warmup)
        measuring = True
        start = clock()
        await asyncio.sleep(seconds)
        measuring = False
        elapsed = (clock() - start) / 1e9
        stop = True
        await asyncio.gather(*workers)
        return summary(latencies, elapsed)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--mode", choices=["sync", "async"], required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    args = parser.parse_args()
    if args.mode == "sync":
        print(run_sync(args.socket, args.warmup, args.seconds))
    else:
        print(asyncio.run(run_async(args.socket, args.warmup, args.seconds, args.concurrency)))


if __name__ == "__main__":
    main()
