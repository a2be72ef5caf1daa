#!/usr/bin/env bash
# Runs the benchmark suite of bench/ (mmapkit against os.File,
# golang.org/x/exp/mmap, github.com/edsrzf/mmap-go and bytes.Reader), saves
# the raw output and benchstat's comparison under docs/bench/, and writes
# docs/BENCHMARKS.md and docs/bench/ratios.svg from them.
#
# The suite runs in ROUNDS rounds of three phases, each phase a run of the
# test binary with -count COUNT, so that every benchmark has ROUNDS*COUNT
# samples and the contenders are measured in turn, several times, rather
# than each in one stretch of a noisy machine's time:
#   micro  ns- to ms-scale operations       -benchtime MICRO_TIME
#   big    1 GiB passes, appends, 64 MiB syncs  -benchtime 1x
#   cold   random reads of an uncached file -benchtime COLD_N x
#
# Environment: BENCH_ROUNDS (3), BENCH_COUNT (2), BENCH_MICRO_TIME (50ms),
# BENCH_COLD_N (40), MMAPKIT_BENCH_DIR (where the fixtures go; a temporary directory on the
# same file system as TMPDIR by default, removed at the end).
# Needs about 6 GiB of free memory and 3.5 GiB of disk.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${BENCH_ROUNDS:-3}
count=${BENCH_COUNT:-2}
micro_time=${BENCH_MICRO_TIME:-50ms}
cold_n=${BENCH_COLD_N:-40}
benchstat_version=v0.0.0-20260908200009-22c9c6c9d4da

out=docs/bench
raw=$out/raw.txt
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/mmapkit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export MMAPKIT_BENCH_DIR=${MMAPKIT_BENCH_DIR:-$work/fixtures}
start=$(date +%s)

echo "building the suite"
(cd bench && go test -c -o "$work/bench.test" .)

# The machine, as benchfmt configuration lines at the top of the raw file.
{
	echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
	echo "kernel: $(uname -sr)"
	echo "filesystem: $(df -T "$MMAPKIT_BENCH_DIR" 2>/dev/null | awk 'NR==2 {print $2}' || df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}')"
	echo "go: $(go env GOVERSION)"
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min, at the start)"
	echo "samples: $rounds rounds x -count $count"
} >"$raw"

# phase NAME REGEXP BENCHTIME
phase() {
	echo "round $r/$rounds: $1"
	(cd "$work" && ./bench.test -test.run '^$' -test.bench "$2" -test.benchtime "$3" \
		-test.count "$count" -test.benchmem -test.timeout 0) | tee -a "$raw"
}

micro='^Benchmark(ReadAt|ReadAtParallel|Core|CoreWrite|WriteAt|WriteAtClean|OpenClose|OpenRead|Sync)$'
big='^Benchmark(Read|Copy|ReadFresh|ReadCold|Append|SyncBulk)$'
cold='^BenchmarkReadAtCold$'
for r in $(seq "$rounds"); do
	phase micro "$micro" "$micro_time"
	phase big "$big" 1x
	phase cold "$cold" "${cold_n}x"
done

# One comparison per workload, so that each compares its contenders with
# the first one it runs: os.File (Core: the bare copy).
echo "benchstat"
benchstat() { (cd bench && go run "golang.org/x/perf/cmd/benchstat@$benchstat_version" "$@"); }
workloads=$(awk -F'[/-]' '/^Benchmark/ { w = substr($1, 10); if (!seen[w]++) print w }' "$raw")
for w in $workloads; do
	benchstat -filter ".name:$w" -row '.name /size /window /g /buf /sink /cache /chunk' -col /impl "../$raw"
	echo
done >"$out/benchstat.txt"

echo "report"
(cd bench && go run ./cmd/report -raw "../$raw" -md ../docs/BENCHMARKS.md -svg ../docs/bench/ratios.svg)

echo "done in $(($(date +%s) - start)) s: docs/BENCHMARKS.md, $out/raw.txt, $out/benchstat.txt, $out/ratios.svg"
