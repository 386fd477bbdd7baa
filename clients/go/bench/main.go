// Command bench is the Go client's load generator, for scripts/bench.sh
// (its go section):
//
//	go run ./bench --socket PATH [--method Health|EnsureImage] [--depth D] [--seconds S] [--warmup S]
//
// One Client (one connection) and D goroutines, each making one call after
// the other (D=1: sequential), for the warm-up plus S seconds, through the
// public API (Health, EnsureImage of $LOADGEN_IMAGE or "agent"). It prints
// one line in the C loadgen's format:
//
//	calls=123456 seconds=5.00 calls_per_s=24691 p50_us=19.5 p99_us=41.2
//
// Latency is from the call to its return. Every answer is checked: a
// failed call, or an EnsureImage that is not PRESENT, ends the run with
// exit 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"sync"
	"time"

	sidecar "github.com/sidecar-dev/sidecar/clients/go"
	pb "github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

func main() {
	socket := flag.String("socket", "", "the daemon's socket")
	method := flag.String("method", "Health", "Health or EnsureImage")
	depth := flag.Int("depth", 1, "goroutines calling at once")
	seconds := flag.Float64("seconds", 5, "measured seconds")
	warmup := flag.Float64("warmup", 1, "unmeasured seconds first")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measured seconds to this file")
	flag.Parse()
	if *socket == "" || *depth < 1 {
		fmt.Fprintln(os.Stderr, "usage: bench --socket PATH [--method Health|EnsureImage] [--depth D] [--seconds S] [--warmup S]")
		os.Exit(64)
	}
	image := os.Getenv("LOADGEN_IMAGE")
	if image == "" {
		image = "agent"
	}
	ctx := context.Background()
	client, err := sidecar.Dial(ctx, sidecar.WithSocket(*socket), sidecar.WithClientName("go-bench"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	defer client.Close()
	var call func() error
	switch *method {
	case "Health":
		call = func() error {
			_, err := client.Health(ctx)
			return err
		}
	case "EnsureImage":
		call = func() error {
			answer, err := client.EnsureImage(ctx, image)
			if err == nil && answer.Outcome != pb.EnsureImageResponse_PRESENT {
				err = fmt.Errorf("EnsureImage answered %v", answer.Outcome)
			}
			return err
		}
	default:
		fmt.Fprintf(os.Stderr, "bench: unknown method %s\n", *method)
		os.Exit(64)
	}
	if err := call(); err != nil { // connected, and the answer is what it should be
		fmt.Fprintf(os.Stderr, "bench: %s: %v\n", *method, err)
		os.Exit(1)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		time.AfterFunc(time.Duration(*warmup*float64(time.Second)), func() { pprof.StartCPUProfile(f) })
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	measureFrom := start.Add(time.Duration(*warmup * float64(time.Second)))
	end := measureFrom.Add(time.Duration(*seconds * float64(time.Second)))
	latencies := make([][]time.Duration, *depth)
	var failure error
	var failureOnce sync.Once
	var wg sync.WaitGroup
	for g := 0; g < *depth; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			mine := make([]time.Duration, 0, 1<<16)
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				if err := call(); err != nil {
					failureOnce.Do(func() { failure = err })
					return
				}
				if !t0.Before(measureFrom) {
					mine = append(mine, time.Since(t0))
				}
			}
			latencies[g] = mine
		}(g)
	}
	wg.Wait()
	pprof.StopCPUProfile()
	if failure != nil {
		fmt.Fprintf(os.Stderr, "bench: %s failed: %v\n", *method, failure)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
	elapsed := time.Since(measureFrom).Seconds()
	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p int) float64 {
		if len(all) == 0 {
			return 0
		}
		i := len(all) * p / 100
		if i >= len(all) {
			i = len(all) - 1
		}
		return float64(all[i]) / float64(time.Microsecond)
	}
	fmt.Printf("calls=%d seconds=%.2f calls_per_s=%.0f p50_us=%.1f p99_us=%.1f\n",
		len(all), elapsed, float64(len(all))/elapsed, pct(50), pct(99))
}
