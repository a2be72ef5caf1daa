package main

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// ipcRaw is a small run of the ipc benchmarks with known medians: three
// samples a contender (two for the idle ends), listed out of order, and
// the custom metrics in different orders on different lines.
const ipcRaw = `machine: test machine, 2 CPUs
load: 3.00 2.00 1.00 (1, 5, 15 min, at the start)
samples: 3 rounds x -count 1
goos: linux
BenchmarkIPCStream/impl=ipc-2         	3	 120 ns/op	 8947848.53 MB/s	 712 B/op	 4 allocs/op
BenchmarkIPCStream/impl=ipc-2         	3	 100 ns/op	10737418.24 MB/s	 712 B/op	 4 allocs/op
BenchmarkIPCStream/impl=ipc-2         	3	 110 ns/op	 9761289.31 MB/s	 712 B/op	 4 allocs/op
BenchmarkIPCStream/impl=ipc-zerocopy-2	3	  90 ns/op	11930464.71 MB/s	 712 B/op	 4 allocs/op
BenchmarkIPCStream/impl=ipc-zerocopy-2	3	 100 ns/op	10737418.24 MB/s	 712 B/op	 4 allocs/op
BenchmarkIPCStream/impl=ipc-zerocopy-2	3	  80 ns/op	13421772.80 MB/s	 712 B/op	 4 allocs/op
BenchmarkIPCStream/impl=os.Pipe-2     	3	1300 ns/op	  825955.25 MB/s	   0 B/op	 0 allocs/op
BenchmarkIPCStream/impl=os.Pipe-2     	3	1000 ns/op	 1073741.82 MB/s	   0 B/op	 0 allocs/op
BenchmarkIPCStream/impl=os.Pipe-2     	3	1200 ns/op	  894784.85 MB/s	   0 B/op	 0 allocs/op
BenchmarkIPCStream/impl=socketpair-2  	3	 700 ns/op	 1533916.89 MB/s	   0 B/op	 0 allocs/op
BenchmarkIPCStream/impl=socketpair-2  	3	 500 ns/op	 2147483.65 MB/s	   0 B/op	 0 allocs/op
BenchmarkIPCStream/impl=socketpair-2  	3	 600 ns/op	 1789569.71 MB/s	   0 B/op	 0 allocs/op
BenchmarkIPCCalls/calls=Write+Read/impl=ipc-2	1000	 300 ns/op	 213.33 MB/s	 0 B/op	 0 allocs/op
BenchmarkIPCCalls/calls=Reserve+Commit+Peek+Release/impl=ipc-2	1000	 400 ns/op	 160.00 MB/s	 16 B/op	 1 allocs/op
PASS
goos: linux
BenchmarkIPCRoundTrip/hog=0/impl=ipc-adaptive-2	1000	 1000 ns/op	 9000 max-ns	 990 mean-ns	 700 p50-ns	 2000 p99-ns	 60000 p99.9-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=0/impl=ipc-adaptive-2	1000	 1100 ns/op	 900 p50-ns	 2000 p99-ns	 50000 p99.9-ns	 9000 max-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=0/impl=ipc-adaptive-2	1000	 1200 ns/op	 800 p50-ns	 40000 p99.9-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=0/impl=ipc-spin-2    	1000	  900 ns/op	 600 p50-ns	 3000 p99.9-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=0/impl=os.Pipe-2     	1000	 5000 ns/op	 2000 p50-ns	100000 p99.9-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=0/impl=os.Pipe-2     	1000	 6000 ns/op	 4000 p50-ns	 80000 p99.9-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=0/impl=os.Pipe-2     	1000	 7000 ns/op	 3000 p50-ns	 90000 p99.9-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=0/impl=spin-line-2   	1000	  400 ns/op	 300 p50-ns	  700 p99.9-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=1/impl=ipc-adaptive-2	1000	 4000 ns/op	 2800 p50-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=1/impl=ipc-adaptive-2	1000	 3000 ns/op	 2800 p50-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=1/impl=ipc-adaptive-2	1000	 3500 ns/op	 2800 p50-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=1/impl=ipc-sleep-2   	1000	 3800 ns/op	 2800 p50-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=1/impl=ipc-sleep-2   	1000	 3400 ns/op	 2800 p50-ns	 41 B/op	 0 allocs/op
BenchmarkIPCRoundTrip/hog=1/impl=ipc-sleep-2   	1000	 3600 ns/op	 2800 p50-ns	 41 B/op	 0 allocs/op
BenchmarkIPCIdle/end=read/impl=ipc-2 	1	6000000000 ns/op	 0.3 cpu-ms/s	 1.5 cpu-ms/s-total
BenchmarkIPCIdle/end=read/impl=ipc-2 	1	6000000000 ns/op	 0.5 cpu-ms/s	 1.7 cpu-ms/s-total
BenchmarkIPCIdle/end=write/impl=ipc-2	1	6000000000 ns/op	 1.2 cpu-ms/s	 2.0 cpu-ms/s-total
BenchmarkIPCIdle/end=write/impl=ipc-2	1	6000000000 ns/op	 1.6 cpu-ms/s	 2.4 cpu-ms/s-total
PASS
load-end: 4.00 3.00 2.00 (1, 5, 15 min, at the end)
`

func parseIPC(t *testing.T) *results {
	t.Helper()
	res, err := parse(strings.NewReader(ipcRaw))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func TestParseMetrics(t *testing.T) {
	res := parseIPC(t)
	for _, c := range []struct {
		key, impl, unit string
		want            float64
	}{
		{"IPCStream", "ipc", "ns/op", 110},
		{"IPCStream", "os.Pipe", "MB/s", 894784.85},
		{"IPCStream", "ipc", "allocs/op", 4},
		// The third line lacks max-ns and p99-ns, whose medians are of the
		// two others.
		{"IPCRoundTrip/hog=0", "ipc-adaptive", "p50-ns", 800},
		{"IPCRoundTrip/hog=0", "ipc-adaptive", "p99.9-ns", 50000},
		{"IPCRoundTrip/hog=0", "ipc-adaptive", "max-ns", 9000},
		{"IPCRoundTrip/hog=0", "ipc-adaptive", "p99-ns", 2000},
		{"IPCRoundTrip/hog=0", "os.Pipe", "p50-ns", 3000},
		{"IPCIdle/end=read", "ipc", "cpu-ms/s", 0.4},        // an even count: the mean of the middle two
		{"IPCIdle/end=write", "ipc", "cpu-ms/s-total", 2.2}, // units that share a prefix stay apart
	} {
		get := metric(c.unit)
		switch c.unit {
		case "ns/op":
			get = ns
		case "MB/s":
			get = mbs
		case "allocs/op":
			get = allocs
		}
		if got := res.stat(c.key, c.impl, get); !near(got, c.want) {
			t.Errorf("%s %s %s: median %g, want %g", c.key, c.impl, c.unit, got, c.want)
		}
	}
	if got := res.stat("IPCRoundTrip/hog=1", "ipc-adaptive", metric("p99-ns")); !math.IsNaN(got) {
		t.Errorf("median of a metric no sample has: %g, want NaN", got)
	}
	if got, want := res.samples("IPCRoundTrip/hog=0", "ipc-adaptive"), 3; got != want {
		t.Errorf("adaptive round trips: %d samples, want %d", got, want)
	}
	if got, want := res.config["load-end"], "4.00 3.00 2.00 (1, 5, 15 min, at the end)"; got != want {
		t.Errorf("load-end = %q, want %q", got, want)
	}
	if want := []string{"IPCStream", "IPCCalls", "IPCRoundTrip", "IPCIdle"}; fmt.Sprint(res.workloads) != fmt.Sprint(want) {
		t.Errorf("workloads %v, want %v", res.workloads, want)
	}
}

func TestIPCEvaluate(t *testing.T) {
	checks := ipcEvaluate(parseIPC(t))
	want := []struct {
		value float64
		met   bool
	}{
		{1200.0 / 110, true},  // stream vs os.Pipe ≥ 10
		{600.0 / 110, true},   // stream vs socketpair ≥ 5
		{110.0 / 90, false},   // zero-copy vs copying ≥ 1.3
		{800.0 / 3000, true},  // p50 ≤ 0.3
		{50e3 / 90e3, false},  // p99.9 ≤ 0.5
		{600.0 / 300, false},  // spin vs spin-line ≤ 1.5
		{3500.0 / 3600, true}, // adaptive vs sleep-only with a hog ≤ 1
		{0.4, true},           // idle read end ≤ 1 ms/s
		{1.4, false},          // idle write end
		{1.0 / 4, false},      // one allocation over four calls
	}
	if len(checks) != len(want) {
		t.Fatalf("%d targets, want %d", len(checks), len(want))
	}
	for i, w := range want {
		c := checks[i]
		if !near(c.Value, w.value) || c.Met() != w.met {
			t.Errorf("%s: %g, met %v; want %g, met %v", c.Name, c.Value, c.Met(), w.value, w.met)
		}
	}
	if got := checks[len(checks)-1].Evidence; !strings.Contains(got, "Reserve+Commit+Peek+Release") {
		t.Errorf("allocation evidence %q does not name the calls that allocate", got)
	}
	if got, want := checks[7].Measured(), "0.4 ms/s"; got != want {
		t.Errorf("idle measured %q, want %q", got, want)
	}
	if got, want := checks[0].Verdict(), "met"; got != want {
		t.Errorf("verdict %q, want %q", got, want)
	}
	if got, want := checks[2].Verdict(), "**not met**"; got != want {
		t.Errorf("verdict %q, want %q", got, want)
	}
}

// An empty run measures nothing, and says so.
func TestIPCEvaluateMissing(t *testing.T) {
	res, err := parse(strings.NewReader("BenchmarkIPCStream/impl=ipc-2 3 100 ns/op\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ipcEvaluate(res) {
		if c.Verdict() != "not measured" || c.Met() || c.Measured() != "–" || strings.Contains(c.Evidence, "NaN") {
			t.Errorf("%s: %s, %s (%s) with nothing to compare", c.Name, c.Verdict(), c.Measured(), c.Evidence)
		}
	}
}

func TestIPCSection(t *testing.T) {
	res := parseIPC(t)
	checks := ipcEvaluate(res)
	var md strings.Builder
	if err := ipcSection(&md, res, checks); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## ipc pipe",
		"| Streaming 1 GiB in 64 KiB writes: ≥10× the rate of os.Pipe | 11× | ≥ 10× | met |",
		"| An idle write end costs < 1 ms of CPU per second | 1.4 ms/s | ≤ 1 ms/s | **not met** |",
		"| 0 | `ipc-adaptive` | 800.0 ns | 2.00 µs | 50.00 µs | 9.00 µs | ",
		"| write | `ipc` | 1.4 | 2.2 | 2 |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("section lacks %q:\n%s", want, md.String())
		}
	}
	svg := ipcChart(checks)
	if got, want := strings.Count(svg, "<rect x="), 7; got != want {
		t.Errorf("chart has %d bars, want %d (the ratios)", got, want)
	}
	if !strings.Contains(svg, `fill="#c62828"`) || !strings.Contains(svg, `fill="#2e7d32"`) {
		t.Error("chart lacks a met or a not-met bar")
	}
}
