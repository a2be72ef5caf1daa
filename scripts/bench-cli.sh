#!/usr/bin/env bash
# Times mmcat against GNU cat on page-cached 1 GiB files, with hyperfine,
# and prints the machine, its load, the medians and the speed ratios (cat's
# median time over mmcat's: above 1 means mmcat is faster) with the target
# of each case:
#
#   into a pipe:     cat F | CONSUMER       vs  mmcat F | CONSUMER
#                    for two consumers, GNU cat (128 KiB reads) and dd with
#                    1 MiB reads, the same on both sides
#   into /dev/null:  cat F > /dev/null      vs  mmcat F > /dev/null
#   into a file:     cat F > OUT            vs  mmcat -o OUT F
#                    for a new OUT and an existing one, and for a source
#                    in each of the two page-cache states: "readahead"
#                    (read once with read(2): large folios) and "written"
#                    (written in 4 KiB pieces: small folios)
#   durably:         cat F > OUT; sync OUT  vs  mmcat --sync -o OUT F
#
# OUT is on BENCH_DIR's disk (default /var/tmp): each run writes 1 GiB,
# and the prepare step (sync, untimed) writes the previous run's back.
#
#   RUNS       timed runs of each command (default 10)
#   BENCH_DIR  where the files go; the script makes a directory there and
#              removes it at the end, on failure and on a signal too
#   BASE_REV   a git revision whose mmcat is timed in the same run, as a
#              third contender ("mmcat@REV"): before and after a change
#   CLI_REPORT a file to copy the report into (make bench-cli: the file
#              docs/bench/cli.txt)
#
# Needs hyperfine (apt-get install -y hyperfine), python3, GNU coreutils,
# 5 GiB free in BENCH_DIR and 5 GiB of available memory.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v hyperfine >/dev/null || { echo "bench-cli: needs hyperfine (scripts/deps.sh bench installs it)" >&2; exit 1; }
runs=${RUNS:-10}
base=${BENCH_DIR:-/var/tmp}
GiB=$((1 << 30))

# Two sources, OUT and the new file of a replace, plus a spare GiB.
need=$((5 * GiB))
avail=$(df -P -B1 "$base" | awk 'NR == 2 { print $4 }')
if [ "$avail" -lt "$need" ]; then
	echo "bench-cli: $base has $avail bytes free, needs $need" >&2
	exit 1
fi
mem=$(($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) * 1024))
if [ "$mem" -lt "$need" ]; then
	echo "bench-cli: $mem bytes of memory available, needs $need to keep the files in the page cache" >&2
	exit 1
fi

dir=$(mktemp -d "$base/mmcat-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM HUP # through the EXIT trap

go build -o "$dir/mmcat" ./cmd/mmcat
mmcat=$dir/mmcat
contenders=(mmcat)
declare -A bin=([mmcat]=$mmcat)
if [ -n "${BASE_REV:-}" ]; then
	rev=$(git rev-parse --short "$BASE_REV")
	mkdir "$dir/base"
	git archive "$rev" | tar -x -C "$dir/base"
	(cd "$dir/base" && go build -o "$dir/mmcat-base" ./cmd/mmcat)
	rm -rf "$dir/base"
	contenders+=("mmcat@$rev")
	bin["mmcat@$rev"]=$dir/mmcat-base
fi

ra=$dir/src-readahead
wr=$dir/src-written
out=$dir/out
echo "making two 1 GiB sources in $dir" >&2
head -c "$GiB" /dev/urandom >"$ra"
dd if="$ra" of="$wr" bs=4k status=none # written in 4 KiB pieces
sync
dd if="$ra" iflag=nocache count=0 status=none # drop it from the page cache,
cat "$ra" >/dev/null                          # and read it in by readahead

{
	echo "mmcat against GNU cat (scripts/bench-cli.sh), $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine:  $(uname -srm), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "disk:     $base on $(findmnt -no FSTYPE -T "$base") ($(findmnt -no SOURCE -T "$base"))"
	echo "tools:    $(cat --version | head -1), hyperfine $(hyperfine --version | awk '{ print $2 }'), mmcat $(git describe --always --dirty)"
	for c in "${contenders[@]}"; do echo "contender ${c}: ${bin[$c]}"; done
	echo "runs:     $runs of each command, in turns (one of each per round), after a round not counted"
	echo "cache:    $(fincore --noheadings --bytes --output RES "$ra" 2>/dev/null || echo ?) of $GiB bytes of each source cached"
	echo "load at start: $(cat /proc/loadavg)"
} >"$dir/header"

json() { echo "$dir/$1.json"; }
# time_case NAME CATLABEL CATCMD LABEL CMD [HYPERFINE-ARGS...] times cat's
# command and, for each contender, CMD with @ replaced by its binary, named
# LABEL with @ replaced by the contender's name. The commands take turns:
# one run of each per round, RUNS rounds after one for warming up (not
# counted), so that a load that comes and goes on a shared machine weighs
# on all of them alike. Each round starts one command later than the last
# (cat, mmcat, mmcat@REV; then mmcat, mmcat@REV, cat; ...): a command that
# always followed the same one would carry what that one left behind (a
# file system still freeing the last OUT's blocks) in every sample. Round
# i goes to NAME.i.json. Extra arguments go to hyperfine before the
# commands; "-n NAME CMD" triples among them are commands too.
time_case() {
	local name=$1 catlabel=$2 catcmd=$3 label=$4 cmd=$5
	shift 5
	local opts=() names=() cmds=()
	while (($#)); do
		if [[ $1 == -n ]]; then
			names+=("$2") cmds+=("$3")
			shift 3
		else
			opts+=("$1")
			shift
		fi
	done
	names+=("$catlabel") cmds+=("$catcmd")
	for c in "${contenders[@]}"; do
		names+=("${label//@/$c}") cmds+=("${cmd//@/${bin[$c]}}")
	done
	local n=${#names[@]} i j k args
	for ((i = 0; i <= runs; i++)); do
		args=()
		for ((j = 0; j < n; j++)); do
			k=$(((i + j) % n))
			args+=(-n "${names[k]}" "${cmds[k]}")
		done
		hyperfine --style basic --runs 1 --export-json "$(json "$name.$i")" "${opts[@]}" "${args[@]}" >/dev/null
	done
}

# The floor of any writer that copies into the pipe: dd writes 1 MiB at a
# time from a buffer that takes no page fault (reading /dev/zero clears it).
floor='dd from /dev/zero | cat'
time_case pipe-cat 'cat F | cat' "cat $ra | cat >/dev/null" '@ F | cat' "@ $ra | cat >/dev/null" \
	-n "$floor" "dd if=/dev/zero bs=1M count=1024 status=none | cat >/dev/null"
time_case pipe-dd 'cat F | dd' "cat $ra | dd of=/dev/null bs=1M status=none" '@ F | dd' "@ $ra | dd of=/dev/null bs=1M status=none"
time_case null 'cat F >/dev/null' "cat $ra >/dev/null" '@ F >/dev/null' "@ $ra >/dev/null"
for src in readahead written; do
	f=$dir/src-$src
	rm -f "$out"
	time_case "new-$src" "cat F > OUT (new, $src)" "cat $f >$out" "@ -o OUT F (new, $src)" "@ -o $out $f" \
		--prepare "rm -f $out; sync"
	cat "$f" >"$out"
	time_case "existing-$src" "cat F > OUT (existing, $src)" "cat $f >$out" "@ -o OUT F (existing, $src)" "@ -o $out $f" \
		--prepare sync
done
time_case sync 'cat F > OUT; sync OUT' "cat $ra >$out; sync $out" '@ --sync -o OUT F' "@ --sync -o $out $ra" \
	--prepare sync

echo "load at end:   $(cat /proc/loadavg)" >>"$dir/header"
{
cat "$dir/header"
python3 - "${contenders[@]}" <<PY
import json, statistics, sys
contenders = sys.argv[1:]
# The pipe's target is the figure of mmcat with vmsplice, before it was
# removed as unsafe (5.57x); the others', cat's speed.
cases = [  # json file, cat's label, the contender's label with @, target
    ("pipe-cat", "cat F | cat", "@ F | cat", 5.57),
    ("pipe-dd", "cat F | dd", "@ F | dd", 5.57),
    ("null", "cat F >/dev/null", "@ F >/dev/null", 1.0),
] + [
    (f"{state}-{src}", f"cat F > OUT ({state}, {src})", f"@ -o OUT F ({state}, {src})", 1.0)
    for src in ("readahead", "written") for state in ("new", "existing")
] + [("sync", "cat F > OUT; sync OUT", "@ --sync -o OUT F", 1.0)]
# Wall-clock time, and the processor time (user and system) that the
# command's processes took: on a loaded machine the second says more of
# the work each does, the first of what a user waits.
times, cpus = {}, {}
for name, *_ in cases:
    for i in range(1, $runs + 1):  # round 0 warmed up
        for r in json.load(open(f"$dir/{name}.{i}.json"))["results"]:
            times.setdefault(r["command"], []).extend(r["times"])
            cpus.setdefault(r["command"], []).append(r["user"] + r["system"])
med = {c: statistics.median(t) for c, t in times.items()}
cpu = {c: statistics.median(t) for c, t in cpus.items()}
GiB = 1 << 30
print(f"\n{'command':44} {'median':>9} {'rate':>10} {'CPU time':>9}")
for name, t in med.items():
    print(f"{name:44} {t*1000:6.0f} ms {GiB/t/1e9:6.2f} GB/s {cpu[name]*1000:6.0f} ms")
print("\nspeed ratio, cat's median over mmcat's (above 1: mmcat faster), and the same of CPU time")
floor = "$floor"
print(f"  {floor:42} {med['cat F | cat'] / med[floor]:5.2f}x  {cpu['cat F | cat'] / cpu[floor]:5.2f}x  (a writer that copies without faults, into | cat)")
for name, base, ours, target in cases:
    for c in contenders:
        label = ours.replace("@", c)
        r = med[base] / med[label]
        print(f"  {label:42} {r:5.2f}x  {cpu[base] / cpu[label]:5.2f}x  (target {target}x: {'met' if r >= target else 'NOT met'})")
if len(contenders) > 1:
    print(f"\n{contenders[0]} against {contenders[1]}, the latter's median over the former's (above 1: faster now), and of CPU time")
    for name, base, ours, target in cases:
        a, b = ours.replace("@", contenders[0]), ours.replace("@", contenders[1])
        print(f"  {a:42} {med[b] / med[a]:5.2f}x  {cpu[b] / cpu[a]:5.2f}x")
PY
} >"$dir/report"
cat "$dir/report"
if [ -n "${CLI_REPORT:-}" ]; then
	cp "$dir/report" "$CLI_REPORT"
fi
