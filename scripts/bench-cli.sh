#!/usr/bin/env bash
# Times mmcat against GNU cat on a page-cached 1 GiB file, in one hyperfine
# session per output kind, and prints the medians and the speed ratios
# (cat's median time over mmcat's: above 1 means mmcat is faster).
#
#   into a pipe:     cat F | CONSUMER       vs  mmcat F | CONSUMER
#                    for two consumers: GNU cat (128 KiB reads) and dd with
#                    1 MiB reads; each consumer is the same for both sides
#   into /dev/null:  cat F > /dev/null      vs  mmcat F > /dev/null
#   into a file:     cat F > OUT            vs  mmcat -o OUT F
#                    mmcat -o replaces OUT atomically (a new file renamed
#                    over the old); with --sync also durably, which is
#                    timed against cat F > OUT; sync OUT.
#
# BENCH_DIR picks the directory for the 1 GiB file and OUT (default: a new
# directory under /var/tmp, on disk); RUNS the number of timed runs of the
# fast cases. Needs hyperfine (apt-get install -y hyperfine) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v hyperfine >/dev/null || { echo "bench-cli: needs hyperfine (apt-get install -y hyperfine)" >&2; exit 1; }
runs=${RUNS:-10}
base=${BENCH_DIR:-/var/tmp}
dir=$(mktemp -d "$base/mmcat-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

go build -o "$dir/mmcat" ./cmd/mmcat
mmcat=$dir/mmcat
file=$dir/big
out=$dir/out
echo "making a 1 GiB file in $dir"
head -c 1G /dev/urandom >"$file"
cat "$file" >/dev/null # into the page cache
cat "$file" >"$out"
sync

json() { echo "$dir/$1.json"; }
hyperfine --style basic --warmup 2 --runs "$runs" --export-json "$(json pipe)" \
	-n 'cat | cat' "cat $file | cat >/dev/null" \
	-n 'mmcat | cat' "$mmcat $file | cat >/dev/null" \
	-n 'cat | dd' "cat $file | dd of=/dev/null bs=1M status=none" \
	-n 'mmcat | dd' "$mmcat $file | dd of=/dev/null bs=1M status=none" >/dev/null
hyperfine --style basic --warmup 2 --runs "$runs" --export-json "$(json null)" \
	-n 'cat >/dev/null' "cat $file >/dev/null" \
	-n 'mmcat >/dev/null' "$mmcat $file >/dev/null" >/dev/null
hyperfine --style basic --warmup 1 --runs 3 --prepare sync --export-json "$(json file)" \
	-n 'cat > OUT' "cat $file >$out" \
	-n 'cat > OUT; sync OUT' "cat $file >$out; sync $out" \
	-n 'mmcat -o OUT' "$mmcat -o $out $file" \
	-n 'mmcat --sync -o OUT' "$mmcat --sync -o $out $file" >/dev/null

python3 - "$(json pipe)" "$(json null)" "$(json file)" <<'PY'
import json, statistics, sys
med = {}
for path in sys.argv[1:]:
    for r in json.load(open(path))["results"]:
        med[r["command"]] = statistics.median(r["times"])
GiB = 1 << 30
print(f"\n{'case':24} {'median':>9} {'rate':>10}")
for name, t in med.items():
    print(f"{name:24} {t*1000:7.0f} ms {GiB/t/1e9:6.2f} GB/s")
print("\nspeed ratio, cat time / mmcat time (above 1: mmcat faster)")
for base, ours, target in [
    ("cat | cat", "mmcat | cat", 1.5),
    ("cat | dd", "mmcat | dd", 1.5),
    ("cat >/dev/null", "mmcat >/dev/null", 1.0),
    ("cat > OUT", "mmcat -o OUT", 1.0),
    ("cat > OUT; sync OUT", "mmcat --sync -o OUT", 1.0),
]:
    r = med[base] / med[ours]
    print(f"  {ours:18} vs {base:22} {r:5.2f}x   (target {target}x: {'met' if r >= target else 'NOT met'})")
PY
