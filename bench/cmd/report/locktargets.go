package main

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"text/template"
)

// The section of ipc's Mutex: its targets, computed from the medians of
// bench/locks_test.go, which the ipc phase runs into the same raw file as
// the pipe's benchmarks.

// lockEvaluate computes the Mutex's targets; it returns none when the run
// measured no Mutex (a raw file from before they were benchmarked, or a
// system without them).
func lockEvaluate(res *results) []ipcCheck {
	if _, ok := res.rows["MutexUncontended"]; !ok {
		return nil
	}
	latency := func(name, short, key, unit, impl, base string, goal float64) ipcCheck {
		return latencyCheck(res, name, short, key, unit, impl, base, goal)
	}
	// absolute: the median over the samples (or, for max-ns, the
	// largest) of impl's metric in unit (scale: ns per unit), at most
	// goal.
	absolute := func(name, short, key, impl, metricName, unit string, scale, goal float64) ipcCheck {
		get := ns
		if metricName != "ns/op" {
			get = metric(metricName)
		}
		v, of := res.stat(key, impl, get), "median"
		if metricName == "max-ns" {
			v, of = res.highest(key, impl, get), "largest"
		}
		return ipcCheck{check: check{
			Name: name, Short: short, Goal: goal, AtMost: true,
			Value:    v / scale,
			Evidence: fmt.Sprintf("`%s` %s, the %s of %d samples: %s %s", key, metricName, of, res.samples(key, impl), impl, fmtTime(v)),
			P:        "–",
		}, Unit: unit}
	}
	var checks []ipcCheck
	// The uncontended targets, for each kind of memory measured: an
	// anonymous segment, whose fast paths skip the fault guard, and a
	// named one, whose fast paths keep it.
	for _, u := range []struct{ impl, what string }{
		{"ipc-memfd", "in an anonymous segment (a sealed memfd: no fault guard)"},
		{"ipc", "in a named segment (with the fault guard)"},
	} {
		if !slices.Contains(res.rows["MutexUncontended"].impls, u.impl) {
			continue
		}
		checks = append(checks,
			absolute("Uncontended Lock+Unlock "+u.what+": at most 25 ns", "uncontended Lock+Unlock, "+u.impl,
				"MutexUncontended", u.impl, "ns/op", "ns", 1, 25),
			latency("Uncontended Lock+Unlock "+u.what+": within 1.5× the time of sync.Mutex",
				"uncontended "+u.impl+" / sync.Mutex", "MutexUncontended", "ns/op", u.impl, "sync.Mutex", 1.5))
	}
	return append(checks,
		latency("Hand-off between two processes: p50 no worse than a robust pthread mutex",
			"hand-off p50 / pthread", "MutexHandoff", "p50-ns", "ipc", "pthread-robust", 1),
		latency("Hand-off between two processes: p99 no worse than a robust pthread mutex",
			"hand-off p99 / pthread", "MutexHandoff", "p99-ns", "ipc", "pthread-robust", 1),
		absolute("Recovery, from the holder's SIGKILL to the next owner holding the lock: p50 under 10 ms",
			"recovery p50", "MutexRecovery", "ipc", "p50-ns", "ms", 1e6, 10),
		absolute("Recovery: the slowest round of all the samples under 10 ms", "recovery max",
			"MutexRecovery", "ipc", "max-ns", "ms", 1e6, 10),
	)
}

// lockColumns are the columns of each Mutex workload's table.
var lockColumns = map[string][]ipcColumn{
	"MutexUncontended": {timeCol, allocsCol, nCol},
	"MutexHandoff":     {timeOf("p50-ns"), timeOf("p99-ns"), nCol},
	"MutexRecovery":    {timeOf("p50-ns"), timeOf("max-ns"), nCol},
}

// lockDescriptions say what each Mutex workload does.
var lockDescriptions = map[string]string{
	"MutexUncontended": "`Lock` then `Unlock` by one goroutine: `ipc` a Mutex in a named POSIX shared-memory segment, " +
		"whose fast paths run in a fault guard; `ipc-memfd` one in an anonymous segment (a memfd sealed against shrinking, " +
		"which processes share by descriptor), whose fast paths need none; `ipc-heap` one in heap memory (one process only); " +
		"`sync.Mutex` the process-local lock.",
	"MutexHandoff": "Two processes pass a contended mutex back and forth: the holder waits until the other is blocked " +
		"in `Lock`, notes the time and unlocks; the other measures how long its `Lock` took to return. `ipc` two Go " +
		"processes; `pthread-robust` a glibc process-shared robust mutex between two C processes (bench/testdata/pthread_mutex.c).",
	"MutexRecovery": "The holder is SIGKILLed while another process waits in `Lock`: the time from the kill to the " +
		"return of that `Lock` with `ErrOwnerDead` (`EOWNERDEAD` for pthread).",
}

//go:embed locks.md.tmpl
var lockTemplate string

// lockSection appends the Mutex's section to the report.
func lockSection(md *strings.Builder, res *results, checks []ipcCheck) error {
	fm := funcs(res)
	fm["lockDescribe"] = func(w string) string { return lockDescriptions[w] }
	t, err := template.New("locks").Funcs(fm).Parse(lockTemplate)
	if err != nil {
		return err
	}
	return t.Execute(md, map[string]any{
		"Config":  res.config,
		"Targets": checks,
		"Tables":  columnTables(res, lockColumns),
	})
}
