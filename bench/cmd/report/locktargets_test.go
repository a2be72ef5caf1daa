package main

import (
	"math"
	"strings"
	"testing"
)

// lockRaw is a small run of the Mutex benchmarks with known medians.
const lockRaw = `machine: test machine, 2 CPUs
samples: 3 rounds x -count 1
goos: linux
BenchmarkMutexUncontended/impl=ipc-2       	1000	 30 ns/op	 0 B/op	 0 allocs/op
BenchmarkMutexUncontended/impl=ipc-2       	1000	 20 ns/op	 0 B/op	 0 allocs/op
BenchmarkMutexUncontended/impl=ipc-2       	1000	 24 ns/op	 0 B/op	 0 allocs/op
BenchmarkMutexUncontended/impl=ipc-memfd-2	1000	 16 ns/op	 0 B/op	 0 allocs/op
BenchmarkMutexUncontended/impl=ipc-memfd-2	1000	 17 ns/op	 0 B/op	 0 allocs/op
BenchmarkMutexUncontended/impl=ipc-memfd-2	1000	 19 ns/op	 0 B/op	 0 allocs/op
BenchmarkMutexUncontended/impl=sync.Mutex-2	1000	 12 ns/op	 0 B/op	 0 allocs/op
BenchmarkMutexUncontended/impl=sync.Mutex-2	1000	 14 ns/op	 0 B/op	 0 allocs/op
BenchmarkMutexUncontended/impl=sync.Mutex-2	1000	 10 ns/op	 0 B/op	 0 allocs/op
BenchmarkMutexHandoff/impl=ipc-2           	1000	 9000 ns/op	 400 p50-ns	 30000 p99-ns
BenchmarkMutexHandoff/impl=ipc-2           	1000	 9000 ns/op	 600 p99-ns	 500 p50-ns
BenchmarkMutexHandoff/impl=pthread-robust-2	1000	 9000 ns/op	 300 p50-ns	 20000 p99-ns
BenchmarkMutexRecovery/impl=ipc-2          	50	 2000000 ns/op	 12000000 max-ns	 1000000 p50-ns
BenchmarkMutexRecovery/impl=ipc-2          	50	 2000000 ns/op	 8000000 max-ns	 3000000 p50-ns
BenchmarkMutexRecovery/impl=ipc-2          	50	 2000000 ns/op	 9000000 max-ns	 2000000 p50-ns
PASS
`

func TestLockEvaluate(t *testing.T) {
	res, err := parse(strings.NewReader(lockRaw))
	if err != nil {
		t.Fatal(err)
	}
	checks := lockEvaluate(res)
	want := []struct {
		value float64
		met   bool
	}{
		{17, true},           // uncontended in a memfd ≤ 25 ns
		{17.0 / 12, true},    // uncontended in a memfd / sync.Mutex ≤ 1.5
		{24, true},           // uncontended ≤ 25 ns
		{24.0 / 12, false},   // uncontended / sync.Mutex ≤ 1.5
		{450.0 / 300, false}, // hand-off p50 / pthread ≤ 1
		{15300.0 / 20000, true},
		{2, true},   // recovery p50 ≤ 10 ms
		{12, false}, // the slowest round of all ≤ 10 ms
	}
	if len(checks) != len(want) {
		t.Fatalf("%d targets, want %d", len(checks), len(want))
	}
	for i, w := range want {
		c := checks[i]
		if math.Abs(c.Value-w.value) > 1e-9*w.value || c.Met() != w.met {
			t.Errorf("%s: %v (met %v), want %v (met %v)", c.Name, c.Value, c.Met(), w.value, w.met)
		}
	}
	var md strings.Builder
	if err := lockSection(&md, res, checks); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"## ipc Mutex", "### MutexHandoff", "| `pthread-robust` |", "≤ 25 ns"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("the section lacks %q:\n%s", s, md.String())
		}
	}
	if got := lockEvaluate(parseIPC(t)); got != nil {
		t.Errorf("a run without Mutex benchmarks gives %d Mutex targets", len(got))
	}
}
