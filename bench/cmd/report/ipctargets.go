package main

import (
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/template"
)

// The ipc pipe's section of the report: its targets, computed from the
// medians of one run of bench/ipc_test.go (docs/bench/ipc-raw.txt), its
// tables and its chart.

// Row keys of the ipc benchmarks.
const (
	ipcStream   = "IPCStream"
	ipcTrips    = "IPCRoundTrip/hog=0"
	ipcTripsHog = "IPCRoundTrip/hog=1"
	osPipe      = "os.Pipe"
)

// ipcCheck is a target of the ipc pipe. Unit, when set, makes Value an
// absolute figure in that unit rather than a ratio.
type ipcCheck struct {
	check
	Unit string
}

// Measured formats the figure.
func (c ipcCheck) Measured() string {
	if c.Unit == "" || math.IsNaN(c.Value) {
		return c.check.Measured()
	}
	return fmt.Sprintf("%.3g %s", c.Value, c.Unit)
}

// Target formats the goal.
func (c ipcCheck) Target() string {
	if c.Unit == "" {
		return c.check.Target()
	}
	return fmt.Sprintf("≤ %g %s", c.Goal, c.Unit)
}

// ipcEvaluate computes every target of the ipc pipe from the medians of
// this run.
func ipcEvaluate(res *results) []ipcCheck {
	// speed: impl's median time per operation against base's, higher is better.
	speed := func(name, short, key, impl, base string, goal float64) ipcCheck {
		return ipcCheck{check: check{
			Name: name, Short: short, Goal: goal,
			Value: res.speedup(key, impl, base),
			Evidence: fmt.Sprintf("`%s`: %s %s vs %s %s", key,
				impl, fmtRate(res.stat(key, impl, mbs)), base, fmtRate(res.stat(key, base, mbs))),
			P: fmtP(res.pValue(key, impl, base)),
		}}
	}
	latency := func(name, short, key, unit, impl, base string, goal float64) ipcCheck {
		return latencyCheck(res, name, short, key, unit, impl, base, goal)
	}
	// idle: the CPU an idle end costs, beyond a sleeping process's.
	idle := func(end string) ipcCheck {
		key := "IPCIdle/end=" + end
		return ipcCheck{check: check{
			Name:  fmt.Sprintf("An idle %s end costs < 1 ms of CPU per second", end),
			Short: "idle " + end + " end",
			Goal:  1, AtMost: true,
			Value: res.stat(key, "ipc", metric("cpu-ms/s")),
			Evidence: fmt.Sprintf("`%s`: %s cpu-ms/s (%s with the process's own start and exit)", key,
				fmtFigure(res.stat(key, "ipc", metric("cpu-ms/s"))), fmtFigure(res.stat(key, "ipc", metric("cpu-ms/s-total")))),
			P: "–",
		}, Unit: "ms/s"}
	}
	return []ipcCheck{
		speed("Streaming 1 GiB in 64 KiB writes: ≥10× the rate of os.Pipe",
			"stream vs os.Pipe", ipcStream, "ipc", osPipe, 10),
		speed("Streaming 1 GiB in 64 KiB writes: ≥5× the rate of a unix socketpair",
			"stream vs socketpair", ipcStream, "ipc", "socketpair", 5),
		speed("Zero-copy stream (Reserve/Commit → Peek/Release): ≥1.3× the rate of the copying one",
			"zero-copy vs copying", ipcStream, "ipc-zerocopy", "ipc", 1.3),
		latency("64 B round trip, adaptive: p50 ≤ 0.3× os.Pipe's",
			"p50 round trip / os.Pipe", ipcTrips, "p50-ns", "ipc-adaptive", osPipe, 0.3),
		latency("64 B round trip, adaptive: p99.9 ≤ 0.5× os.Pipe's",
			"p99.9 round trip / os.Pipe", ipcTrips, "p99.9-ns", "ipc-adaptive", osPipe, 0.5),
		latency("64 B round trip, spin-only: p50 within 1.5× of a raw cache-line ping-pong",
			"spin p50 / raw ping-pong", ipcTrips, "p50-ns", "ipc-spin", "spin-line", 1.5),
		latency("64 B round trip beside a CPU hog: adaptive no slower than sleep-only (mean time)",
			"adaptive / sleep-only, hog", ipcTripsHog, "ns/op", "ipc-adaptive", "ipc-sleep", 1),
		idle("read"),
		idle("write"),
		ipcAllocCheck(res),
	}
}

// latencyCheck is the target that impl's median of a latency metric (unit:
// ns/op, or a custom metric) be at most goal times base's.
func latencyCheck(res *results, name, short, key, unit, impl, base string, goal float64) ipcCheck {
	get := ns
	if unit != "ns/op" {
		get = metric(unit)
	}
	a, b := res.stat(key, impl, get), res.stat(key, base, get)
	return ipcCheck{check: check{
		Name: name, Short: short, Goal: goal, AtMost: true,
		Value:    a / b,
		Evidence: fmt.Sprintf("`%s` %s: %s %s vs %s %s", key, unit, impl, fmtTime(a), base, fmtTime(b)),
		P:        fmtP(res.pValueOf(key, impl, base, get)),
	}}
}

// ipcAllocCheck finds the most allocations per call of the pipe's ends:
// in IPCCalls, where one operation is one call of each method in its
// calls= name and both ends run in the process; in IPCStream, where one
// operation is the writer's 1 GiB of 64 KiB Writes (or Reserve+Commit
// pairs); and in IPCRoundTrip, one Write and at least one Read.
func ipcAllocCheck(res *results) ipcCheck {
	worst, where := math.NaN(), "none"
	for _, k := range res.order {
		r := res.rows[k]
		for _, impl := range r.impls {
			if !strings.HasPrefix(impl, "ipc") {
				continue
			}
			var calls float64
			switch r.workload {
			case "IPCCalls":
				calls = float64(strings.Count(param(r.params, "calls"), "+") + 1)
			case "IPCStream":
				calls = float64(1<<30) / (64 << 10)
				if impl == "ipc-zerocopy" {
					calls *= 2
				}
			case "IPCRoundTrip":
				calls = 2
			default:
				continue
			}
			a := res.stat(k, impl, allocs)
			if math.IsNaN(a) {
				continue // run without -benchmem
			}
			if v := a / calls; math.IsNaN(worst) || v > worst {
				worst, where = v, fmt.Sprintf("`%s` %s: %.3g allocs/op over %.0f calls", k, impl, a, calls)
			}
		}
	}
	return ipcCheck{check: perCallCheck("No allocation per Read/Write/Reserve/Commit/Peek/Release call", worst, where)}
}

// param is the value of the parameter key= of a row, "" if it has none.
func param(params []string, key string) string {
	for _, p := range params {
		if v, ok := strings.CutPrefix(p, key+"="); ok {
			return v
		}
	}
	return ""
}

// ipcChart draws the ratios of the ipc targets (the pipe's and the
// Mutex's) as chart does mmfile's; the absolute figures (idle CPU,
// allocations, times) are left out.
func ipcChart(checks []ipcCheck) string {
	var bars []check
	for _, c := range checks {
		if c.Unit == "" && !c.PerCall {
			bars = append(bars, c.check)
		}
	}
	return chart(bars, "ipc pipe and Mutex against their targets (ratio of medians, same run; log scale)",
		"bar: measured ratio (speed: higher is better; round-trip time ratios: lower); black tick: target")
}

// ipcColumn is one column of an ipc table: its header and its cell.
type ipcColumn struct {
	header string
	cell   func(res *results, key, impl string) string
}

func timeOf(unit string) ipcColumn {
	return ipcColumn{unit, func(res *results, key, impl string) string { return fmtTime(res.stat(key, impl, metric(unit))) }}
}

func figureOf(unit string) ipcColumn {
	return ipcColumn{unit, func(res *results, key, impl string) string { return fmtFigure(res.stat(key, impl, metric(unit))) }}
}

// fmtFigure formats a figure without a unit of time, "–" where none was
// measured.
func fmtFigure(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.3g", v)
}

var (
	timeCol   = ipcColumn{"time/op", func(res *results, key, impl string) string { return fmtTime(res.stat(key, impl, ns)) }}
	rateCol   = ipcColumn{"throughput", func(res *results, key, impl string) string { return fmtRate(res.stat(key, impl, mbs)) }}
	allocsCol = ipcColumn{"allocs/op", func(res *results, key, impl string) string {
		return strconv.FormatFloat(res.stat(key, impl, allocs), 'f', -1, 64)
	}}
	nCol = ipcColumn{"n", func(res *results, key, impl string) string { return strconv.Itoa(res.samples(key, impl)) }}
)

// ipcColumns are the columns of each ipc workload's table.
var ipcColumns = map[string][]ipcColumn{
	"IPCStream":    {timeCol, rateCol, allocsCol, nCol},
	"IPCCalls":     {timeCol, allocsCol, nCol},
	"IPCRoundTrip": {timeOf("p50-ns"), timeOf("p99-ns"), timeOf("p99.9-ns"), timeOf("max-ns"), timeOf("mean-ns"), allocsCol, nCol},
	"IPCIdle":      {figureOf("cpu-ms/s"), figureOf("cpu-ms/s-total"), nCol},
}

// columnTables renders one table per workload that columns names, each
// contender's medians in the workload's columns.
func columnTables(res *results, columns map[string][]ipcColumn) []table {
	var out []table
	for _, w := range res.workloads {
		cols, ok := columns[w]
		if !ok {
			continue
		}
		t := table{Workload: w}
		paramKeys := tableRows(res, w, func(k string, _ *row, impl string, cells []string) {
			cells = append(cells, "`"+impl+"`")
			for _, c := range cols {
				cells = append(cells, c.cell(res, k, impl))
			}
			t.Lines = append(t.Lines, "| "+strings.Join(cells, " | ")+" |")
		})
		headers := append(paramKeys, "contender")
		sep := strings.Repeat("---|", len(headers))
		for _, c := range cols {
			headers = append(headers, c.header)
			sep += "--:|"
		}
		t.Header = "| " + strings.Join(headers, " | ") + " |\n|" + sep
		out = append(out, t)
	}
	return out
}

// ipcDescriptions say what each ipc workload does.
var ipcDescriptions = map[string]string{
	"IPCStream": "1 GiB in 64 KiB writes from this process to the peer, which reads every byte out (`ipc`: `Read` into a " +
		"64 KiB buffer; `os.Pipe`, `socketpair`: read(2)) or reads it in place (`ipc-zerocopy`: the writer `Reserve`s, " +
		"copies in and `Commit`s; the reader `Peek`s, folds every word and `Release`s), then acknowledges. A 1 MiB ring.",
	"IPCCalls": "The calls of both ends in one process on one named pipe, taking turns with 64 bytes: " +
		"allocs/op are the allocations of one call of each method named.",
	"IPCRoundTrip": "64-byte messages sent to the peer, which echoes them back over a second pipe (4 KiB rings), timed one " +
		"by one: the percentiles are of one sample's round trips. `ipc-adaptive`, `ipc-sleep`, `ipc-spin` are the wait " +
		"modes (`ipc.Adaptive`, `ipc.SleepOnly`, `ipc.SpinOnly`); `spin-line` two processes passing a counter through " +
		"one shared cache line, the floor of the machine. `hog=1` runs a process that spins beside them: three runnable " +
		"on two CPUs (spinners left out there).",
	"IPCIdle": "CPU time of a process whose end waits 3 s with nothing to do (a reader on an empty ring, a writer on a " +
		"full one) less that of a process that sleeps as long: `cpu-ms/s` per second of waiting; `cpu-ms/s-total` " +
		"without the subtraction.",
}

//go:embed ipc.md.tmpl
var ipcTemplate string

// ipcSection appends the ipc pipe's section to the report.
func ipcSection(md *strings.Builder, res *results, checks []ipcCheck) error {
	fm := funcs(res)
	fm["ipcDescribe"] = func(w string) string { return ipcDescriptions[w] }
	// ipcTime is the median of a latency metric, as a time.
	fm["ipcTime"] = func(key, impl, unit string) string { return fmtTime(res.stat(key, impl, metric(unit))) }
	t, err := template.New("ipc").Funcs(fm).Parse(ipcTemplate)
	if err != nil {
		return err
	}
	return t.Execute(md, map[string]any{
		"Config":  res.config,
		"Targets": checks,
		"Tables":  columnTables(res, ipcColumns),
	})
}
