// Command report turns the raw output of the benchmark suite into
// docs/BENCHMARKS.md and the charts docs/bench/ratios.svg (mmfile) and
// docs/bench/ipc-ratios.svg (the ipc pipe, from docs/bench/ipc-raw.txt,
// whose section is left out when that file is absent).
//
// It reads `go test -bench` output (several runs appended to one file),
// takes the median of each benchmark's samples, and compares every
// contender (the impl= part of the name) with os.File in the same run.
// Confidence intervals and significance for every pair are in benchstat's
// output, which scripts/bench.sh saves beside the raw file.
//
//	go run ./cmd/report -raw ../docs/bench/raw.txt -md ../docs/BENCHMARKS.md -svg ../docs/bench/ratios.svg \
//		-ipc-raw ../docs/bench/ipc-raw.txt -ipc-svg ../docs/bench/ipc-ratios.svg
package main

import (
	"bufio"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// sample is one line of benchmark output.
type sample struct {
	nsPerOp, mbPerS, bytesPerOp, allocsPerOp float64
	metrics                                  map[string]float64 // b.ReportMetric's, by unit: "p50-ns", "cpu-ms/s"
}

// row is one workload at one set of parameters, with the samples of every
// contender.
type row struct {
	workload string   // "ReadAt"
	params   []string // "size=64B", ...
	impls    []string // in order of appearance
	samples  map[string][]sample
}

func (r *row) key() string { return strings.Join(append([]string{r.workload}, r.params...), "/") }

// results holds everything read from the raw file.
type results struct {
	config    map[string]string
	workloads []string
	rows      map[string]*row
	order     []string // row keys in order of appearance
}

var procSuffix = regexp.MustCompile(`-\d+$`)

func parse(r io.Reader) (*results, error) {
	res := &results{config: map[string]string{}, rows: map[string]*row{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "Benchmark") {
			if k, v, ok := strings.Cut(line, ": "); ok && !strings.ContainsAny(k, " \t") {
				if _, seen := res.config[k]; !seen {
					res.config[k] = strings.TrimSpace(v)
				}
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || f[len(f)-1] == "FAIL" {
			continue
		}
		name := procSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		parts := strings.Split(name, "/")
		rw := &row{workload: parts[0]}
		impl := ""
		for _, p := range parts[1:] {
			if v, ok := strings.CutPrefix(p, "impl="); ok {
				impl = v
			} else {
				rw.params = append(rw.params, p)
			}
		}
		if impl == "" {
			continue
		}
		s := sample{allocsPerOp: math.NaN()} // a run without -benchmem counts none
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.nsPerOp = v
			case "MB/s":
				s.mbPerS = v
			case "B/op":
				s.bytesPerOp = v
			case "allocs/op":
				s.allocsPerOp = v
			default:
				if s.metrics == nil {
					s.metrics = map[string]float64{}
				}
				s.metrics[f[i+1]] = v
			}
		}
		k := rw.key()
		if old, ok := res.rows[k]; ok {
			rw = old
		} else {
			rw.samples = map[string][]sample{}
			res.rows[k] = rw
			res.order = append(res.order, k)
			if !slices.Contains(res.workloads, rw.workload) {
				res.workloads = append(res.workloads, rw.workload)
			}
		}
		if _, ok := rw.samples[impl]; !ok {
			rw.impls = append(rw.impls, impl)
		}
		rw.samples[impl] = append(rw.samples[impl], s)
	}
	return res, sc.Err()
}

// median is the median of xs, leaving out the NaNs of samples that lack
// the metric; NaN when none has it.
func median(xs []float64) float64 {
	s := slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func field(ss []sample, get func(sample) float64) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = get(s)
	}
	return out
}

func ns(s sample) float64     { return s.nsPerOp }
func mbs(s sample) float64    { return s.mbPerS }
func allocs(s sample) float64 { return s.allocsPerOp }

// metric gets the custom metric of the unit from a sample, NaN where the
// sample has none.
func metric(unit string) func(sample) float64 {
	return func(s sample) float64 {
		if v, ok := s.metrics[unit]; ok {
			return v
		}
		return math.NaN()
	}
}

// stat returns the median of one metric of a contender in a row, NaN when
// there is none.
func (res *results) stat(key, impl string, get func(sample) float64) float64 {
	r, ok := res.rows[key]
	if !ok {
		return math.NaN()
	}
	return median(field(r.samples[impl], get))
}

// highest returns the largest value of one metric of a contender over
// its samples, NaN when there is none.
func (res *results) highest(key, impl string, get func(sample) float64) float64 {
	r, ok := res.rows[key]
	if !ok || len(r.samples[impl]) == 0 {
		return math.NaN()
	}
	return slices.Max(field(r.samples[impl], get))
}

// speedup is how many times faster impl is than base in the row: the
// ratio of their median times per operation.
func (res *results) speedup(key, impl, base string) float64 {
	return res.stat(key, base, ns) / res.stat(key, impl, ns)
}

// pValue is the two-sided p-value of the Mann-Whitney U test that the
// times of a and b come from the same distribution (normal approximation
// with tie correction), the test benchstat uses.
func (res *results) pValue(key, a, b string) float64 { return res.pValueOf(key, a, b, ns) }

// pValueOf is pValue for the metric that get reads.
func (res *results) pValueOf(key, a, b string, get func(sample) float64) float64 {
	r, ok := res.rows[key]
	if !ok {
		return math.NaN()
	}
	x := slices.DeleteFunc(field(r.samples[a], get), math.IsNaN)
	y := slices.DeleteFunc(field(r.samples[b], get), math.IsNaN)
	n1, n2 := float64(len(x)), float64(len(y))
	if n1 == 0 || n2 == 0 {
		return math.NaN()
	}
	type v struct {
		val float64
		grp int
	}
	all := make([]v, 0, len(x)+len(y))
	for _, e := range x {
		all = append(all, v{e, 0})
	}
	for _, e := range y {
		all = append(all, v{e, 1})
	}
	slices.SortFunc(all, func(p, q v) int { return cmpFloat(p.val, q.val) })
	ranks := make([]float64, len(all))
	tie := 0.0
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].val == all[i].val {
			j++
		}
		t := float64(j - i)
		tie += t*t*t - t
		for k := i; k < j; k++ {
			ranks[k] = float64(i+j+1) / 2
		}
		i = j
	}
	r1 := 0.0
	for i, e := range all {
		if e.grp == 0 {
			r1 += ranks[i]
		}
	}
	u := r1 - n1*(n1+1)/2
	n := n1 + n2
	mu := n1 * n2 / 2
	sigma := math.Sqrt(n1 * n2 / 12 * ((n + 1) - tie/(n*(n-1))))
	if sigma == 0 {
		return 1
	}
	z := (math.Abs(u-mu) - 0.5) / sigma
	return math.Erfc(max(z, 0) / math.Sqrt2)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// samples returns how many samples the contender has in the row.
func (res *results) samples(key, impl string) int {
	if r, ok := res.rows[key]; ok {
		return len(r.samples[impl])
	}
	return 0
}

func fmtTime(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v < 1e3:
		return fmt.Sprintf("%.1f ns", v)
	case v < 1e6:
		return fmt.Sprintf("%.2f µs", v/1e3)
	case v < 1e9:
		return fmt.Sprintf("%.1f ms", v/1e6)
	}
	return fmt.Sprintf("%.2f s", v/1e9)
}

func fmtRate(mb float64) string {
	switch {
	case math.IsNaN(mb) || mb == 0:
		return "–"
	case mb >= 1000:
		return fmt.Sprintf("%.2f GB/s", mb/1000)
	}
	return fmt.Sprintf("%.0f MB/s", mb)
}

func fmtRatio(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v >= 10:
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

func fmtP(p float64) string {
	if math.IsNaN(p) {
		return "–"
	}
	return fmt.Sprintf("p=%.3f", p)
}

//go:embed report.md.tmpl
var reportTemplate string

// analysisTemplate is the discussion of the results: why a contender wins
// or loses where it does, with the figures of the run.
//
//go:embed analysis.md.tmpl
var analysisTemplate string

// descriptions say what each workload does.
var descriptions = map[string]string{
	"ReadAt": "`ReadAt` of `size` bytes at random offsets (one table of offsets, aligned to the size, for every contender) " +
		"in the page-cached 1 GiB file, through one long-lived reader whose pages are populated before timing. " +
		"`shm`, `sysv`, `ioadapt.Memory` and `bytes.Reader` hold a copy of the file in shared or heap memory.",
	"ReadAtParallel": "`ReadAt` as above from `g` goroutines sharing one reader (`b.RunParallel`, 2 CPUs); " +
		"time/op is wall time per read of all goroutines together, so a flat line means perfect scaling to the CPUs.",
	"Core": "The io core's `ReadAt` of 64 bytes taken apart, in a hot 64 KiB window of a mapping: `copy` alone, a non-inlined " +
		"call around it, each safety measure alone (`RWMutex` = `RLock`+`RUnlock`, `SetPanicOnFault` = the on/off pair, " +
		"`defer+recover+copy` = the deferred recovery around the copy), `all-by-hand` = all of them with two deferred calls, `one-defer` = with one, " +
		"then the real thing: `ioadapt` over a region that may fault, `ioadapt-faultfree` over one that may not " +
		"(lock only), `mmfile`, and `x/exp/mmap`. `RWMutex-parallel` is the read lock taken by both CPUs at once. " +
		"`guard` is the fault guard of one call alone (one deferred call that recovers and restores, no lock): the floor of a guarded `ReadAt`; " +
		"`access-batch` is 64 reads inside one `mmfile` `Access`, one guard for all. `window=16MiB` and `window=1GiB` read at random " +
		"over a 16 MiB file and the page-cached 1 GiB file, where the copies miss the caches.",
	"CoreWrite": "`WriteAt` of 64 bytes at random offsets of a 64 MiB file whose pages are dirty and mapped: `store` is a plain " +
		"store into the same mapping (the File's `Bytes`), `guard` the same store inside the fault guard of one call alone " +
		"(the floor of a guarded `WriteAt`), `mmfile` its `WriteAt`, and `access-batch` the stores made 64 at a time inside one `Access`.",
	"WriteAt": "`WriteAt` of 64 bytes at random offsets of a 64 MiB file (or segment, or heap buffer) whose pages are " +
		"already dirty: the steady state of updating records in place.",
	"WriteAtClean": "`WriteAt` of 64 bytes into a page that was just written back (clean): a shared mapping takes a write " +
		"fault (`page_mkwrite`) on the first store to each such page; `pwrite` does not.",
	"OpenClose": "Open a small page-cached file and close it without reading: `os.File` open+fstat+close, the mappings " +
		"open+fstat+mmap+munmap+close. 64 files in turn.",
	"OpenRead": "Open a small page-cached file, CRC-32 its contents, close it: what a tool pays per file. " +
		"`os.File` reads into a reused buffer, `os.ReadFile` allocates one per file, `mmfile` uses `WriteTo` into the hash.",
	"Sync": "Make one dirty 4 KiB page durable: `os.File` = pwrite + fdatasync; `mmfile` = `WriteAt` + `SyncRange` of the page " +
		"(msync `MS_SYNC`); `mmfile-Sync` = `WriteAt` + `Sync` of the whole 64 MiB file; `mmfile-WriteAtSync` = `WriteAtSync` " +
		"(pwrite + msync of the page). Each operation writes the next page of a file written in 1 MiB chunks.",
	"SyncBulk": "Write 64 MiB (1 MiB `WriteAt`s) and make them durable, as `Sync` above.",
	"Read": "Read the whole page-cached 1 GiB file with `Read` and a `buf`-sized buffer, through a long-lived, populated " +
		"reader: the steady state of a program that keeps a file open. `x/exp/mmap` reads through `io.SectionReader`.",
	"Copy": "`io.Copy` of the whole page-cached 1 GiB file into a sink: `buffer` (a preallocated 1 GiB heap buffer: the " +
		"memory-bandwidth test), `crc32` (`crc32.NewIEEE`), `pipe` (a pipe to a child process that reads and discards). " +
		"`mmfile` and `bytes.Reader` hand the whole file to one `Write` (`WriterTo`); `os.File` and `x/exp/mmap` go through " +
		"a 32 KiB buffer.",
	"ReadFresh": "Open the page-cached 1 GiB file, read it to the end with a 1 MiB buffer, close it — in both cache states. " +
		"`mmfile-populate` maps with `mmfile.Populate()` (`MAP_POPULATE`).",
	"ReadCold": "As `ReadFresh`, on a file dropped from the page cache before every operation: the disk and readahead set " +
		"the pace.",
	"ReadAtCold": "`ReadAt` of 4 KiB at a random offset of a file dropped from the page cache, with a fresh reader each time: " +
		"one trip to the disk. A mapping's fault reads around the page (the device's `read_ahead_kb`, 8 MiB here) unless " +
		"advised otherwise: `mmfile-random` maps with `mmfile.WithAdvice(mmfile.Random)`.",
	"AppendCopy": "`Append` by `io.Copy` from a reader that returns one chunk per Read: the file's ReadFrom does the " +
		"appending (`os.File`: its ReadFrom, by write).",
	"Append": "Create a file and `Write` chunks to it until it holds `size`, then `Close` (no sync). `mmfile` writes " +
		"each chunk with pwrite, which extends the file by what it wrote, and grows its mapping when needed; `os.File` writes. " +
		"64 MiB rather than 1 GiB to keep the suite within minutes; the time scales linearly.",
}

func main() {
	rawPath := flag.String("raw", "../docs/bench/raw.txt", "raw benchmark output")
	mdPath := flag.String("md", "../docs/BENCHMARKS.md", "Markdown report to write")
	svgPath := flag.String("svg", "../docs/bench/ratios.svg", "SVG chart to write")
	ipcRawPath := flag.String("ipc-raw", "../docs/bench/ipc-raw.txt", "raw output of the ipc phase (its section is left out if the file is absent)")
	ipcSVGPath := flag.String("ipc-svg", "../docs/bench/ipc-ratios.svg", "SVG chart of the ipc targets to write")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("report: ")

	res, err := parseFile(*rawPath)
	if err != nil {
		log.Fatal(err)
	}
	checks := evaluate(res)

	var md strings.Builder
	t := template.Must(template.New("report").Funcs(funcs(res)).Parse(reportTemplate))
	template.Must(t.New("analysis").Parse(analysisTemplate))
	if err := t.Execute(&md, map[string]any{
		"Config":  res.config,
		"Targets": checks,
		"Tables":  tables(res),
	}); err != nil {
		log.Fatal(err)
	}
	svg := chart(checks, "mmfile against its targets (ratio of medians, same run; log scale)",
		"bar: measured ratio (higher is better, except the time ratios of durability); black tick: target")
	if err := os.WriteFile(*svgPath, []byte(svg), 0o644); err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stat(*ipcRawPath); err == nil {
		ipcRes, err := parseFile(*ipcRawPath)
		if err != nil {
			log.Fatal(err)
		}
		ipcChecks := ipcEvaluate(ipcRes)
		if err := ipcSection(&md, ipcRes, ipcChecks); err != nil {
			log.Fatal(err)
		}
		lockChecks := lockEvaluate(ipcRes)
		if len(lockChecks) > 0 {
			if err := lockSection(&md, ipcRes, lockChecks); err != nil {
				log.Fatal(err)
			}
		}
		if err := os.WriteFile(*ipcSVGPath, []byte(ipcChart(append(ipcChecks, lockChecks...))), 0o644); err != nil {
			log.Fatal(err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		log.Fatal(err)
	}
	if err := os.WriteFile(*mdPath, []byte(md.String()), 0o644); err != nil {
		log.Fatal(err)
	}
}

// parseFile parses the raw output in the file at path, which must hold at
// least one result.
func parseFile(path string) (*results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(res.rows) == 0 {
		return nil, fmt.Errorf("%s: no benchmark results", path)
	}
	return res, nil
}

func funcs(res *results) template.FuncMap {
	return template.FuncMap{
		"time": func(key, impl string) string { return fmtTime(res.stat(key, impl, ns)) },
		"rate": func(key, impl string) string { return fmtRate(res.stat(key, impl, mbs)) },
		"speedup": func(key, impl, base string) string {
			return fmtRatio(res.speedup(key, impl, base))
		},
		"p": func(key, a, b string) string { return fmtP(res.pValue(key, a, b)) },
		"overhead": func(key, impl, base string) string {
			d := res.stat(key, impl, ns) - res.stat(key, base, ns)
			if math.IsNaN(d) {
				return "–"
			}
			return fmt.Sprintf("%+.1f ns", d)
		},
		// diffPer is the difference of two medians spread over n events
		// (pages, calls), as a time.
		"diffPer": func(key, a, b string, n float64) string {
			return fmtTime((res.stat(key, a, ns) - res.stat(key, b, ns)) / n)
		},
		// timeRatio is the median time of a over that of b.
		"timeRatio": func(key, a, b string) string {
			return fmtRatio(res.stat(key, a, ns) / res.stat(key, b, ns))
		},
		// sub is the median time of a in one row minus that of b in another.
		"sub": func(keyA, a, keyB, b string) string {
			d := res.stat(keyA, a, ns) - res.stat(keyB, b, ns)
			if math.IsNaN(d) {
				return "–"
			}
			return fmt.Sprintf("%.1f ns", d)
		},
		"allocs": func(key, impl string) string {
			return strconv.FormatFloat(res.stat(key, impl, allocs), 'f', -1, 64)
		},
		"n":        func(key, impl string) int { return res.samples(key, impl) },
		"describe": func(w string) string { return descriptions[w] },
	}
}

// table is the Markdown table of one workload.
type table struct {
	Workload string
	Header   string
	Lines    []string
}

// tables renders one table per workload: every contender's median time and
// throughput, its allocations, and its speed relative to os.File (or, where
// os.File is absent, to the first contender).
func tables(res *results) []table {
	var out []table
	for _, w := range res.workloads {
		t := table{Workload: w}
		paramKeys := tableRows(res, w, func(k string, r *row, impl string, cells []string) {
			base := osFile
			if _, ok := r.samples[base]; !ok {
				base = r.impls[0]
			}
			ratio := "1 (base)"
			if impl != base {
				ratio = fmtRatio(res.speedup(k, impl, base))
			}
			cells = append(cells, "`"+impl+"`",
				fmtTime(res.stat(k, impl, ns)),
				fmtRate(res.stat(k, impl, mbs)),
				strconv.FormatFloat(res.stat(k, impl, allocs), 'f', -1, 64),
				ratio,
				strconv.Itoa(res.samples(k, impl)))
			t.Lines = append(t.Lines, "| "+strings.Join(cells, " | ")+" |")
		})
		cols := append(slices.Clone(paramKeys), "contender", "time/op", "throughput", "allocs/op", "speed vs base", "n")
		sep := make([]string, len(cols))
		for i := range sep {
			sep[i] = "---"
			if i >= len(paramKeys)+1 {
				sep[i] = "--:"
			}
		}
		t.Header = "| " + strings.Join(cols, " | ") + " |\n|" + strings.Join(sep, "|") + "|"
		out = append(out, t)
	}
	return out
}

// tableRows calls line for every contender of every row of workload w, in
// the order of the raw file, with the row's parameter values as the first
// cells, and returns the parameters' names (those of its first row).
func tableRows(res *results, w string, line func(key string, r *row, impl string, cells []string)) []string {
	var paramKeys []string
	for _, k := range res.order {
		r := res.rows[k]
		if r.workload != w {
			continue
		}
		if paramKeys == nil {
			for _, p := range r.params {
				pk, _, _ := strings.Cut(p, "=")
				paramKeys = append(paramKeys, pk)
			}
		}
		for _, impl := range r.impls {
			var cells []string
			for _, p := range r.params {
				_, v, _ := strings.Cut(p, "=")
				cells = append(cells, v)
			}
			line(k, r, impl, cells)
		}
	}
	return paramKeys
}

const osFile = "os.File"
