package main

import (
	"fmt"
	"math"
	"strings"
)

// check is one performance target and what this run measured for it.
type check struct {
	Name     string  // the target in words
	Short    string  // its label in the chart
	Goal     float64 // the ratio to reach
	AtMost   bool    // the ratio must stay at or below Goal instead
	Value    float64 // the measured ratio
	Evidence string  // the medians behind it
	P        string  // significance of the difference
	PerCall  bool    // Value is a count per call, not a ratio
}

// Met reports whether the measured ratio reaches the goal.
func (c check) Met() bool {
	if math.IsNaN(c.Value) {
		return false
	}
	if c.AtMost {
		return c.Value <= c.Goal
	}
	return c.Value >= c.Goal
}

// Verdict is the Met column of the report.
func (c check) Verdict() string {
	switch {
	case math.IsNaN(c.Value):
		return "not measured"
	case c.Met():
		return "met"
	}
	return "**not met**"
}

// Measured formats the ratio.
func (c check) Measured() string {
	if c.PerCall {
		if math.IsNaN(c.Value) {
			return "–"
		}
		return fmt.Sprintf("%.2g per call", c.Value)
	}
	return fmtRatio(c.Value)
}

// Target formats the goal.
func (c check) Target() string {
	if c.PerCall {
		return "0 per call"
	}
	if c.AtMost {
		return "≤ " + fmtRatio(c.Goal)
	}
	return "≥ " + fmtRatio(c.Goal)
}

// evaluate computes every target from the medians of this run.
func evaluate(res *results) []check {
	speed := func(name, short, key, impl, base string, goal float64) check {
		return check{
			Name: name, Short: short, Goal: goal,
			Value: res.speedup(key, impl, base),
			Evidence: fmt.Sprintf("`%s`: %s %s vs %s %s", key,
				impl, fmtTime(res.stat(key, impl, ns)), base, fmtTime(res.stat(key, base, ns))),
			P: fmtP(res.pValue(key, impl, base)),
		}
	}
	var out []check
	out = append(out,
		speed("Random ReadAt 64 B, cached: ≥15× faster than os.File.ReadAt",
			"ReadAt 64 B vs os.File", "ReadAt/size=64B", "mmfile", osFile, 15),
		speed("Random ReadAt 64 B, cached: ≥0.8× the speed of x/exp/mmap",
			"ReadAt 64 B vs x/exp/mmap", "ReadAt/size=64B", "mmfile", "exp-mmap", 0.8),
		speed("Random ReadAt 4 KiB, cached: ≥1.8× faster than os.File.ReadAt",
			"ReadAt 4 KiB vs os.File", "ReadAt/size=4KiB", "mmfile", osFile, 1.8),
		speed("Sequential Read (128 KiB buffer) of 1 GiB: ≥0.85× the rate of bytes.Reader over memory",
			"Read 128 KiB vs memory", "Read/size=1GiB/buf=128KiB", "mmfile", "bytes.Reader", 0.85),
		speed("Sequential Read (1 MiB buffer) of 1 GiB: ≥0.85× the rate of bytes.Reader over memory",
			"Read 1 MiB vs memory", "Read/size=1GiB/buf=1MiB", "mmfile", "bytes.Reader", 0.85),
		speed("io.Copy of 1 GiB into a buffer: ≥0.85× the rate of bytes.Reader over memory",
			"io.Copy vs memory", "Copy/size=1GiB/sink=buffer", "mmfile", "bytes.Reader", 0.85),
		speed("Random WriteAt 64 B: ≥20× faster than os.File.WriteAt",
			"WriteAt 64 B vs os.File", "WriteAt/size=64B", "mmfile", osFile, 20),
		speed("Random ReadAt 64 B over a 16 MiB file: ≥0.8× the speed of x/exp/mmap",
			"ReadAt 64 B 16 MiB vs x/exp/mmap", "Core/size=64B/window=16MiB", "mmfile", "exp-mmap", 0.8),
		speed("Random ReadAt 4 KiB, cached: ≥0.95× the speed of x/exp/mmap",
			"ReadAt 4 KiB vs x/exp/mmap", "ReadAt/size=4KiB", "mmfile", "exp-mmap", 0.95),
		speed("The fault guard of one call alone, no lock, 64 B over 1 GiB (the floor of a guarded ReadAt): ≥0.8× x/exp/mmap",
			"guard alone vs x/exp/mmap", "Core/size=64B/window=1GiB", "guard", "exp-mmap", 0.8),
		speed("Random reads of 64 B, 64 inside one Access, over 1 GiB: ≥0.8× x/exp/mmap's ReadAt",
			"Access ×64 vs x/exp/mmap", "Core/size=64B/window=1GiB", "access-batch", "exp-mmap", 0.8),
	)
	// Appending: by Write of each chunk, and by io.Copy (ReadFrom).
	for _, w := range []struct{ workload, by string }{{"Append", "Write of"}, {"AppendCopy", "io.Copy in"}} {
		for _, chunk := range []string{"4 KiB", "64 KiB"} {
			key := w.workload + "/size=64MiB/chunk=" + strings.ReplaceAll(chunk, " ", "")
			out = append(out, speed(fmt.Sprintf("Append to 64 MiB by %s %s chunks: ≥1.0× os.File", w.by, chunk),
				fmt.Sprintf("%s %s vs os.File", w.workload, chunk), key, "mmfile", osFile, 1))
		}
	}
	out = append(out,
		speed("Open, read and close a cached 4 KiB file: ≥0.5× os.File",
			"OpenRead 4 KiB vs os.File", "OpenRead/size=4KiB", "mmfile", osFile, 0.5),
		// The floor of OpenRead: x/exp/mmap makes the mapping's system
		// calls (open, fstat, mmap, munmap, close) and nothing more.
		speed("Open, read and close a cached 4 KiB file: ≥0.95× x/exp/mmap, which makes only the mapping's own system calls (the floor)",
			"OpenRead 4 KiB vs x/exp/mmap", "OpenRead/size=4KiB", "mmfile", "exp-mmap", 0.95),
		speed("Open and close a cached 4 KiB file: ≥0.5× os.File",
			"OpenClose 4 KiB vs os.File", "OpenClose/size=4KiB", "mmfile", osFile, 0.5),
	)
	out = append(out, scaling(res, "size=64B"), scaling(res, "size=4KiB"))
	out = append(out,
		timeRatio(res, "Random WriteAt 64 B: within 1.5× the time of a plain store into the mapping",
			"WriteAt 64 B time / store", "CoreWrite/size=64B", "mmfile", "store", 1.5),
		timeRatio(res, "The fault guard of one call alone around a 64 B store (the floor of a guarded WriteAt): within 1.5× a plain store",
			"guarded store alone / store", "CoreWrite/size=64B", "guard", "store", 1.5),
		timeRatio(res, "Random stores of 64 B, 64 inside one Access: within 1.5× the time of a plain store",
			"Access ×64 store / store", "CoreWrite/size=64B", "access-batch", "store", 1.5),
		// Durability: the time of making a page durable over the time
		// of pwrite+fdatasync.
		timeRatio(res, "One dirty 4 KiB page made durable (WriteAt+SyncRange): within 1.1× of pwrite+fdatasync",
			"SyncRange 4 KiB time / fdatasync", "Sync/size=4KiB", "mmfile", osFile, 1.1),
		timeRatio(res, "One 4 KiB page written and made durable by WriteAtSync: within 1.1× of pwrite+fdatasync",
			"WriteAtSync 4 KiB time / fdatasync", "Sync/size=4KiB", "mmfile-WriteAtSync", osFile, 1.1),
	)
	out = append(out, allocCheck(res))
	return out
}

// scaling is the target for parallel ReadAt of one size: mmfile's speedup
// from one goroutine to two (one per CPU of the reference machine), over
// x/exp/mmap's, so that 1× means it scales as well.
func scaling(res *results, size string) check {
	one, two := "ReadAtParallel/"+size+"/g=1", "ReadAtParallel/"+size+"/g=2"
	up := func(impl string) float64 { return res.stat(one, impl, ns) / res.stat(two, impl, ns) }
	return check{
		Name:  fmt.Sprintf("Parallel ReadAt %s from 2 goroutines: speeds up from 1 at least 0.9× as much as x/exp/mmap does", strings.TrimPrefix(size, "size=")),
		Short: "parallel " + strings.TrimPrefix(size, "size=") + " scaling vs x/exp/mmap",
		Goal:  0.9,
		Value: up("mmfile") / up("exp-mmap"),
		Evidence: fmt.Sprintf("`%s` over `%s`: mmfile %s → %s (%.2f×), exp-mmap %s → %s (%.2f×)", two, one,
			fmtTime(res.stat(one, "mmfile", ns)), fmtTime(res.stat(two, "mmfile", ns)), up("mmfile"),
			fmtTime(res.stat(one, "exp-mmap", ns)), fmtTime(res.stat(two, "exp-mmap", ns)), up("exp-mmap")),
		P: fmtP(res.pValue(two, "mmfile", "exp-mmap")),
	}
}

// allocCheck finds the most allocations per io call of mmfile in the
// ReadAt, WriteAt and Read benchmarks (allocs/op divided by the calls that
// one operation makes) and in Append, where an operation also creates and
// closes the file: there the allocations per Write are the slope between
// the chunk sizes, (allocs₁ − allocs₂) / (calls₁ − calls₂).
func allocCheck(res *results) check {
	worst, where := math.NaN(), "none"
	note := func(a float64, w string) {
		if math.IsNaN(worst) || a > worst {
			worst, where = a, w
		}
	}
	type point struct{ calls, allocs float64 }
	appends := map[string][]point{}
	for _, k := range res.order {
		r := res.rows[k]
		calls := 1.0
		switch r.workload {
		case "ReadAt", "WriteAt", "WriteAtClean":
		case "Read":
			calls = bytesParam(r.params, "size") / bytesParam(r.params, "buf")
		case "Append":
			for _, impl := range r.impls {
				if impl == "mmfile" {
					calls = bytesParam(r.params, "size") / bytesParam(r.params, "chunk")
					appends[impl] = append(appends[impl], point{calls, res.stat(k, impl, allocs)})
				}
			}
			continue
		default:
			continue
		}
		for _, impl := range r.impls {
			if impl != "mmfile" {
				continue
			}
			a := res.stat(k, impl, allocs)
			note(a/calls, fmt.Sprintf("`%s`: %.3g allocs/op over %.0f calls", k, a, calls))
		}
	}
	for impl, ps := range appends {
		if len(ps) < 2 {
			continue
		}
		p, q := ps[0], ps[len(ps)-1]
		slope := math.Abs(p.allocs-q.allocs) / math.Abs(p.calls-q.calls)
		note(slope, fmt.Sprintf("`Append` %s: %.3g and %.3g allocs/op over %.0f and %.0f Writes (create and close included)",
			impl, p.allocs, q.allocs, p.calls, q.calls))
	}
	return perCallCheck("No allocation per ReadAt/WriteAt/Read/Write call (mmfile)", worst, where)
}

// perCallCheck is the target of no allocation per call, met by the worst
// count per call found where; under 0.01 is none, as what one operation
// allocates outside the calls (its setup) spreads over many calls.
func perCallCheck(name string, worst float64, where string) check {
	return check{
		Name:     name,
		Short:    "allocations per call",
		Goal:     0.01,
		AtMost:   true,
		Value:    worst,
		Evidence: "worst: " + where,
		P:        "–",
		PerCall:  true,
	}
}

// bytesParam reads a size such as buf=128KiB from the row's parameters.
func bytesParam(params []string, key string) float64 {
	for _, p := range params {
		v, ok := strings.CutPrefix(p, key+"=")
		if !ok {
			continue
		}
		var n float64
		var unit string
		fmt.Sscanf(v, "%g%s", &n, &unit)
		switch unit {
		case "KiB":
			n *= 1 << 10
		case "MiB":
			n *= 1 << 20
		case "GiB":
			n *= 1 << 30
		}
		return n
	}
	return math.NaN()
}

// chart draws the targets' ratios as horizontal bars on a logarithmic
// axis, each with a tick at its goal: green where met, red where not, under
// the title and the legend. The allocation check has no ratio and is left
// out.
func chart(checks []check, title, legend string) string {
	var bars []check
	for _, c := range checks {
		if !c.PerCall {
			bars = append(bars, c)
		}
	}
	const (
		left, width = 250, 460
		top, barH   = 48, 26
		gap         = 10
		minV, maxV  = 0.1, 100.0
	)
	x := func(v float64) float64 {
		v = math.Min(math.Max(v, minV), maxV)
		return left + width*(math.Log10(v)-math.Log10(minV))/(math.Log10(maxV)-math.Log10(minV))
	}
	h := top + len(bars)*(barH+gap) + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		left+width+80, h, left+width+80, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", 10, escape(title))
	fmt.Fprintf(&b, `<text x="%d" y="36" fill="#555">%s</text>`+"\n", 10, escape(legend))
	for _, v := range []float64{0.1, 0.3, 1, 3, 10, 30, 100} {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x(v), top-4, x(v), h-30)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%g×</text>`+"\n", x(v), h-14, v)
	}
	for i, c := range bars {
		y := top + i*(barH+gap)
		color := "#2e7d32"
		if !c.Met() {
			color = "#c62828"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+barH/2+4, escape(c.Short))
		if !math.IsNaN(c.Value) {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", left, y, x(c.Value)-left, barH, color)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", x(c.Value)+4, y+barH/2+4, escape(fmtRatio(c.Value)))
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-width="2"/>`+"\n", x(c.Goal), y-3, x(c.Goal), y+barH+3)
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#888" stroke-dasharray="3,3"/>`+"\n", x(1), top-4, x(1), h-30)
	b.WriteString("</svg>\n")
	return b.String()
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// timeRatio is a check that impl's time for key is at most goal times
// base's, both medians of the same run.
func timeRatio(res *results, name, short, key, impl, base string, goal float64) check {
	return check{
		Name:   name,
		Short:  short,
		Goal:   goal,
		AtMost: true,
		Value:  res.stat(key, impl, ns) / res.stat(key, base, ns),
		Evidence: fmt.Sprintf("`%s`: %s %s vs %s %s", key,
			impl, fmtTime(res.stat(key, impl, ns)), base, fmtTime(res.stat(key, base, ns))),
		P: fmtP(res.pValue(key, impl, base)),
	}
}
