#!/usr/bin/env bash
# Runs the benchmark suite of bench/ (mmapkit against os.File,
# golang.org/x/exp/mmap, github.com/edsrzf/mmap-go and bytes.Reader; the ipc
# pipe against os.Pipe and a unix socketpair), saves the raw output and
# benchstat's comparison under docs/bench/, and writes docs/BENCHMARKS.md,
# docs/bench/ratios.svg and docs/bench/ipc-ratios.svg from them.
#
# The suite runs in ROUNDS rounds of four phases, each phase a run of the
# test binary with -count COUNT, so that every benchmark has ROUNDS*COUNT
# samples and the contenders are measured in turn, several times, rather
# than each in one stretch of a noisy machine's time:
#   micro  ns- to ms-scale operations       -benchtime MICRO_TIME
#   big    1 GiB passes, appends, 64 MiB syncs  -benchtime 1x
#   cold   random reads of an uncached file -benchtime COLD_N x
#   ipc    two processes over the ipc pipe, os.Pipe and a socketpair:
#          1 GiB streams (1x), IPC_TRIPS 64-byte round trips (x), the
#          calls' allocations (MICRO_TIME), idle ends (1x, -count 1: 12 s);
#          ipc.Mutex against sync.Mutex and a robust pthread mutex:
#          uncontended (MICRO_TIME), LOCK_HANDOFFS hand-offs (x),
#          LOCK_ROUNDS recoveries from a SIGKILLed holder (x)
#
# The file phases write docs/bench/raw.txt and the ipc phase
# docs/bench/ipc-raw.txt: each file holds the whole of its phases' samples,
# so that BENCH_PHASES=ipc (make bench-ipc: a few minutes, 15 at a load of 30) measures
# the pipe again without discarding the file results, and the report reads
# both.
#
# Environment: BENCH_PHASES ("micro big cold ipc"), BENCH_ROUNDS (3),
# BENCH_COUNT (2), BENCH_MICRO_TIME (50ms), BENCH_COLD_N (40),
# BENCH_IPC_TRIPS (200000), BENCH_LOCK_HANDOFFS (20000), BENCH_LOCK_ROUNDS
# (50), MMAPKIT_BENCH_DIR (where the fixtures go; a
# temporary directory on the same file system as TMPDIR by default, removed
# at the end).
# The file phases need about 6 GiB of free memory and 3.5 GiB of disk.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${BENCH_ROUNDS:-3}
count=${BENCH_COUNT:-2}
micro_time=${BENCH_MICRO_TIME:-50ms}
cold_n=${BENCH_COLD_N:-40}
ipc_trips=${BENCH_IPC_TRIPS:-200000}
lock_handoffs=${BENCH_LOCK_HANDOFFS:-20000}
lock_rounds=${BENCH_LOCK_ROUNDS:-50}
phases=${BENCH_PHASES:-micro big cold ipc}
benchstat_version=v0.0.0-20260908200009-22c9c6c9d4da

out=docs/bench
raw=$out/raw.txt
ipcraw=$out/ipc-raw.txt
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/mmapkit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export MMAPKIT_BENCH_DIR=${MMAPKIT_BENCH_DIR:-$work/fixtures}
start=$(date +%s)

echo "building the suite"
(cd bench && go test -c -o "$work/bench.test" .)

has() { [[ " $phases " == *" $1 "* ]]; }
files=false
for p in micro big cold; do has "$p" && files=true; done

# The machine, as benchfmt configuration lines at the top of a raw file.
header() {
	echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
	echo "kernel: $(uname -sr)"
	echo "filesystem: $(df -T "$MMAPKIT_BENCH_DIR" 2>/dev/null | awk 'NR==2 {print $2}' || df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}')"
	echo "go: $(go env GOVERSION)"
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min, at the start)"
	echo "samples: $rounds rounds x -count $count"
}
$files && header >"$raw"
has ipc && header >"$ipcraw"

# run FILE COUNT REGEXP BENCHTIME
run() {
	(cd "$work" && ./bench.test -test.run '^$' -test.bench "$3" -test.benchtime "$4" \
		-test.count "$2" -test.benchmem -test.timeout 0) | tee -a "$1"
}

# phase NAME REGEXP BENCHTIME
phase() {
	has "$1" || return 0
	echo "round $r/$rounds: $1"
	run "$raw" "$count" "$2" "$3"
}

# The ipc phase: each benchmark with the benchtime that suits it.
ipc_phase() {
	has ipc || return 0
	echo "round $r/$rounds: ipc"
	run "$ipcraw" "$count" '^BenchmarkIPCStream$' 1x
	run "$ipcraw" "$count" '^BenchmarkIPCCalls$' "$micro_time"
	run "$ipcraw" "$count" '^BenchmarkIPCRoundTrip$' "${ipc_trips}x"
	run "$ipcraw" 1 '^BenchmarkIPCIdle$' 1x
	run "$ipcraw" "$count" '^BenchmarkMutexUncontended$' "$micro_time"
	run "$ipcraw" "$count" '^BenchmarkMutexHandoff$' "${lock_handoffs}x"
	run "$ipcraw" "$count" '^BenchmarkMutexRecovery$' "${lock_rounds}x"
}

micro='^Benchmark(ReadAt|ReadAtParallel|Core|CoreWrite|WriteAt|WriteAtClean|OpenClose|OpenRead|Sync)$'
big='^Benchmark(Read|Copy|ReadFresh|ReadCold|Append|AppendCopy|SyncBulk)$'
cold='^BenchmarkReadAtCold$'
for r in $(seq "$rounds"); do
	phase micro "$micro" "$micro_time"
	phase big "$big" 1x
	phase cold "$cold" "${cold_n}x"
	ipc_phase
done
has ipc && echo "load-end: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min, at the end)" >>"$ipcraw"

# One comparison per workload, so that each compares its contenders with
# the first one it runs: os.File (Core: the bare copy), the ipc pipe.
echo "benchstat"
benchstat() { (cd bench && go run "golang.org/x/perf/cmd/benchstat@$benchstat_version" "$@"); }
compare() {
	for w in $(awk -F'[/-]' '/^Benchmark/ { w = substr($1, 10); if (!seen[w]++) print w }' "$1"); do
		benchstat -filter ".name:$w" -row "$2" -col /impl "../$1"
		echo
	done
}
$files && compare "$raw" '.name /size /window /g /buf /sink /cache /chunk' >"$out/benchstat.txt"
has ipc && compare "$ipcraw" '.name /hog /calls /end' >"$out/ipc-benchstat.txt"

echo "report"
(cd bench && go run ./cmd/report -raw "../$raw" -ipc-raw "../$ipcraw" -md ../docs/BENCHMARKS.md \
	-svg ../docs/bench/ratios.svg -ipc-svg ../docs/bench/ipc-ratios.svg)

echo "done in $(($(date +%s) - start)) s (phases: $phases): docs/BENCHMARKS.md and $out/"
