#!/usr/bin/env bash
# The fault-and-abuse suite: every package's TestFault* scenarios (built
# with the "faults" tag: real processes, real files, many rounds), then
# every fuzz target for FUZZTIME. Prints a table of each scenario, how many
# times it ran and the failures seen, and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-15s}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
go test -tags faults -run '^TestFault' -count=1 -timeout 30m -json ./... >"$work/faults.json" || status=1

# Fuzzing: each target for $fuzztime; the executions count as runs.
: >"$work/fuzz.txt"
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for t in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		log="$work/fuzz-$t.log"
		if ./scripts/fuzz-one.sh "$pkg" "$t" "$fuzztime" "$log"; then
			result=0
		else
			result=1
			status=1
			cat "$log"
		fi
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
		printf '%s\t%s\t%s\t%s\n' "${pkg#github.com/mmapkit/mmapkit/}" "$t" "${execs:-0}" "$result" >>"$work/fuzz.txt"
	done
done

python3 - "$work/faults.json" "$work/fuzz.txt" <<'PY'
import json, re, sys

outputs, results = {}, {}
for line in open(sys.argv[1]):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    test = ev.get("Test")
    if not test or "/" in test or not test.startswith("TestFault"):
        continue
    key = (ev["Package"].replace("github.com/mmapkit/mmapkit/", ""), test)
    if ev["Action"] == "output":
        outputs.setdefault(key, []).append(ev["Output"])
    elif ev["Action"] in ("pass", "fail", "skip"):
        results[key] = ev["Action"]

rows = []  # package, scenario, runs, failures or "skipped: why"
for key in sorted(set(outputs) | set(results)):
    text = "".join(outputs.get(key, []))
    counts = re.findall(r"faults: runs=(\d+) failures=(\d+)", text)
    # A scenario without a count ran once.
    runs, fails = (int(counts[-1][0]), int(counts[-1][1])) if counts else (1, 0)
    result = results.get(key, "crash")
    if result == "skip":
        why = [l.strip() for l in text.splitlines() if l.strip() and not l.startswith(("=== ", "--- "))]
        rows.append((key[0], key[1], "-", "skipped: " + (why[-1] if why else "")))
        continue
    if result != "pass":
        fails = max(fails, 1)
    rows.append((key[0], key[1], str(runs), str(fails)))
for line in open(sys.argv[2]):
    pkg, target, execs, result = line.rstrip("\n").split("\t")
    rows.append((pkg, target + " (fuzz)", execs, "0" if result == "0" else "1"))

head = ("package", "scenario", "runs", "failures")
w = [max(len(r[i]) for r in rows + [head]) for i in range(3)]
for r in [head] + rows:
    print(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:>{w[2]}}  {r[3]}")
skipped = sum(r[3].startswith("skipped") for r in rows)
failed = sum(r[3] not in ("0",) and not r[3].startswith("skipped") for r in rows)
print(f"faults: {len(rows) - skipped - failed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
