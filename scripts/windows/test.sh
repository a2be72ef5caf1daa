#!/usr/bin/env bash
# test.sh - run the project's Go tests for Windows (windows/amd64) under Wine.
#
# Why: the Windows code paths of mmapkit (file mappings, named shared memory,
# handle management) are never compiled or executed by a Linux `go test`.
# This script cross-compiles every package's tests for Windows and runs the
# test binaries under Wine on this Linux machine, so Windows regressions show
# up in the normal Linux workflow and CI.
#
# Usage: scripts/windows/test.sh [MODULE_DIR [PACKAGE_DIR...]]
#   MODULE_DIR   module root (default: $MODULE_DIR, else the repository root)
#   PACKAGE_DIR  only these packages, as directories relative to MODULE_DIR
#                (default: every directory of the module holding _test.go files)
#
# Environment:
#   WINDOWS_TEST_TIMEOUT    -test.timeout for each test binary (default 10m)
#   WINDOWS_TEST_FLAGS      extra flags for the test binaries, e.g.
#                           "-test.run=TestMap -test.count=2"
#   WINDOWS_TEST_SKIP_PKGS  package directories (relative, space separated)
#                           deliberately not tested on Windows; they are named
#                           in the summary
#   WINDOWS_TEST_OUT        where binaries and logs go
#                           (default: <repo>/.cache/windows-test)
#   MMAPKIT_WINEPREFIX      Wine prefix (default: <repo>/.cache/wine)
#
# Steps: scripts/windows/setup-wine.sh (installs Wine and mingw if needed,
# prepares the prefix); then, per package, `GOOS=windows GOARCH=amd64
# go test -c`; then each binary runs under wine64 in its package directory
# (as `go test` does) with -test.v=test2json; its output is streamed, saved
# as plain -test.v text to <out>/<pkg>.log, and converted with
# `go tool test2json` to <out>/<pkg>.json, from which the summary table is
# counted (subtests included). Wine's \r\n line endings are normalised.
#
# A package fails when a test fails, when its tests do not compile for
# Windows, when it has _test.go files but none of them build for Windows,
# when it runs no test, or when the binary crashes, times out or exits
# non-zero. A test that started but never finished (crash, timeout) counts as
# failed; a package that fails without any failed test counts as one failure
# in the totals. Exit status is non-zero if any package failed. The last line
# of output is always:
#   windows: N passed, N failed, N skipped
#
# Runs using the same Wine prefix are serialised with the lock file
# <prefix>.lock, since a run starts and ends by killing every Wine process of
# the prefix (wineserver -k).

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)

die() {
	echo "test.sh: error: $*" >&2
	echo "windows: 0 passed, 1 failed, 0 skipped"
	exit 1
}

case "${1:-}" in
-h | --help)
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
	exit 0
	;;
esac

MOD=${1:-${MODULE_DIR:-$REPO}}
[[ $# -gt 0 ]] && shift
[[ -d "$MOD" ]] || die "module directory $MOD does not exist"
MOD=$(cd "$MOD" && pwd)
[[ -f "$MOD/go.mod" ]] || die "$MOD has no go.mod: give the module root directory"

TIMEOUT=${WINDOWS_TEST_TIMEOUT:-10m}
read -r -a EXTRA_FLAGS <<<"${WINDOWS_TEST_FLAGS:-}"
read -r -a SKIP_PKGS <<<"${WINDOWS_TEST_SKIP_PKGS:-}"
OUT=${WINDOWS_TEST_OUT:-$REPO/.cache/windows-test}

GO=$(command -v go || true)
if [[ -z "$GO" && -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go; fi
[[ -n "$GO" ]] || die "go not found on PATH (nor /usr/local/go/bin/go)"

# Seconds for a Go duration such as 90s, 10m, 1h30m (for the outer kill timer).
duration_seconds() {
	local d=$1 total=0 n u
	[[ "$d" =~ ^([0-9]+[hms])+$ ]] || { echo ""; return; }
	while [[ "$d" =~ ^([0-9]+)([hms])(.*)$ ]]; do
		n=${BASH_REMATCH[1]} u=${BASH_REMATCH[2]} d=${BASH_REMATCH[3]}
		case $u in h) total=$((total + n * 3600)) ;; m) total=$((total + n * 60)) ;; s) total=$((total + n)) ;; esac
	done
	echo "$total"
}
timeout_s=$(duration_seconds "$TIMEOUT")
[[ -n "$timeout_s" ]] || die "WINDOWS_TEST_TIMEOUT=$TIMEOUT: use a Go duration made of h, m and s parts (e.g. 10m)"
# The test binary panics itself at -test.timeout; the outer timer only
# catches a binary (or Wine) that hangs past that.
outer_s=$((timeout_s + 120))

# ---- Wine -----------------------------------------------------------------
# One run per Wine prefix at a time: the end of a run kills every Wine
# process of the prefix. setup-wine.sh uses the same lock.
PREFIX="${MMAPKIT_WINEPREFIX:-$REPO/.cache/wine}"
[[ "$PREFIX" == /* ]] || PREFIX="$PWD/$PREFIX"
mkdir -p "$(dirname "$PREFIX")"
exec 9>"$PREFIX.lock" || die "cannot open $PREFIX.lock"
if ! flock -n 9; then
	echo "test.sh: another run is using the Wine prefix $PREFIX; waiting for it to finish..." >&2
	flock 9 || die "cannot lock $PREFIX.lock"
fi
export MMAPKIT_WINEPREFIX="$PREFIX" MMAPKIT_WINE_LOCK_HELD="$PREFIX.lock"
env_out=$("$SCRIPT_DIR/setup-wine.sh" --print-env) || die "scripts/windows/setup-wine.sh failed (see its messages above)"
eval "$env_out"
export WINEPREFIX WINEDEBUG="${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n,b"
unset DISPLAY WAYLAND_DISPLAY

wine_cleanup() {
	# Kill whatever a test left running in the prefix, then wait for the
	# server to go away so nothing holds our pipes open.
	"$WINESERVER" -k >/dev/null 2>&1 || true
	timeout 30 "$WINESERVER" -w >/dev/null 2>&1 || true
}
trap wine_cleanup EXIT
trap 'exit 130' INT TERM
# Start the prefix's wineserver up front, detached from our pipes, so that no
# test binary starts one that inherits (and holds open) the output pipe. A
# server left over from running Wine by hand is stopped first.
wine_cleanup
"$WINESERVER" -p </dev/null >/dev/null 2>&1 || die "could not start $WINESERVER for $WINEPREFIX"
# Let Wine start its services now, detached from any output of ours, so the
# first package's output and timing are not affected.
timeout 120 "$WINE64" cmd /c exit </dev/null >/dev/null 2>&1 || die "Wine does not start programs in $WINEPREFIX (try: WINEDEBUG=err+all $WINE64 cmd /c exit)"

# ---- packages ---------------------------------------------------------------
# Directories with _test.go files, skipping testdata, vendor, hidden and _
# directories, and nested modules.
find_test_dirs() {
	find "$MOD" -mindepth 1 -type d \( -name testdata -o -name vendor -o -name '.*' -o -name '_*' \) -prune \
		-o -type f -name '*_test.go' -printf '%h\n' |
		sort -u |
		while read -r d; do
			local p=$d nested=0
			while [[ "$p" != "$MOD" ]]; do
				[[ -f "$p/go.mod" ]] && { nested=1; break; }
				p=$(dirname "$p")
			done
			((nested)) || echo "$d"
		done
}

rel_of() {
	local d=$1
	if [[ "$d" == "$MOD" ]]; then echo "."; else echo "${d#"$MOD"/}"; fi
}

pkgs=()
if [[ $# -gt 0 ]]; then
	for p in "$@"; do
		p=${p#./}
		p=${p%/}
		[[ -z "$p" ]] && p=.
		[[ -d "$MOD/$p" ]] || die "package directory $MOD/$p does not exist"
		pkgs+=("$p")
	done
else
	while read -r d; do pkgs+=("$(rel_of "$d")"); done < <(find_test_dirs)
fi

# Packages without any _test.go file are not run, but named, so that a
# package nobody tests is visible in the output.
untested=()
if [[ $# -eq 0 ]]; then
	while read -r d; do
		[[ -n "$d" ]] || continue
		r=$(rel_of "$d")
		has_tests=0
		for q in "${pkgs[@]}"; do [[ "$q" == "$r" ]] && has_tests=1; done
		((has_tests)) || untested+=("$r")
	done < <(cd "$MOD" && GOOS=windows GOARCH=amd64 "$GO" list -e \
		-f '{{if and (not .TestGoFiles) (not .XTestGoFiles) (or .GoFiles .CgoFiles)}}{{.Dir}}{{end}}' ./... 2>/dev/null)
fi

skipped_pkgs=()
selected=()
for p in "${pkgs[@]}"; do
	skip=0
	for s in "${SKIP_PKGS[@]}"; do
		s=${s#./}
		s=${s%/}
		[[ "$p" == "$s" ]] && skip=1
	done
	if ((skip)); then skipped_pkgs+=("$p"); else selected+=("$p"); fi
done
((${#selected[@]} > 0)) || die "no package with _test.go files found under $MOD"

mkdir -p "$OUT"
rm -f "$OUT"/*.test.exe "$OUT"/*.log "$OUT"/*.json "$OUT"/*.raw "$OUT"/*.err "$OUT"/*.unfinished

name_of() {
	local p=$1
	if [[ "$p" == "." ]]; then echo "_root"; else echo "${p//\//_}"; fi
}

# ---- build and run ------------------------------------------------------------
declare -A status nrun npass nfail nskip secs
test_filtered=0
for f in "${EXTRA_FLAGS[@]}"; do
	[[ "$f" == -test.run* || "$f" == -test.skip* || "$f" == -run* || "$f" == -skip* ]] && test_filtered=1
done

import_path() {
	(cd "$MOD/$1" && GOOS=windows GOARCH=amd64 "$GO" list -e -f '{{.ImportPath}}' . 2>/dev/null) || echo "$1"
}

# Count the events of one package's test2json stream:
# prints "run pass fail skip pkgaction" (pkgaction: pass, fail, skip or none).
count_events() {
	awk '
		/"Action":"run"/ && /"Test":/ { run++ }
		/"Action":"pass"/ { if (/"Test":/) pass++; else pkg = "pass" }
		/"Action":"fail"/ { if (/"Test":/) fail++; else pkg = "fail" }
		/"Action":"skip"/ { if (/"Test":/) skip++; else pkg = "skip" }
		END { printf "%d %d %d %d %s\n", run, pass, fail, skip, (pkg == "" ? "none" : pkg) }
	' "$1"
}

# Tests with a "run" event but no pass/fail/skip (crash or timeout inside them).
unfinished_tests() {
	awk '
		match($0, /"Test":"([^"\\]|\\.)*"/) {
			t = substr($0, RSTART + 8, RLENGTH - 9)
			if (/"Action":"run"/) { open[t] = 1; order[++n] = t }
			else if (/"Action":"(pass|fail|skip)"/) delete open[t]
		}
		END { for (i = 1; i <= n; i++) if (order[i] in open) { print order[i]; delete open[order[i]] } }
	' "$1"
}

failed_tests() {
	awk '/"Action":"fail"/ && match($0, /"Test":"([^"\\]|\\.)*"/) { print substr($0, RSTART + 8, RLENGTH - 9) }' "$1"
}

for p in "${selected[@]}"; do
	n=$(name_of "$p")
	exe="$OUT/$n.test.exe"
	log="$OUT/$n.log"
	json="$OUT/$n.json"
	nrun[$p]=0 npass[$p]=0 nfail[$p]=0 nskip[$p]=0 secs[$p]=0
	echo "=== windows: $p: building"
	start=$SECONDS
	if ! (cd "$MOD" && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 "$GO" test -c -o "$exe" "./$p") >"$OUT/$n.build.log" 2>&1; then
		sed 's/^/    /' "$OUT/$n.build.log"
		echo "--- windows: $p: FAIL: tests do not compile for windows/amd64 (output above, also in $OUT/$n.build.log)"
		status[$p]="BUILD FAILED"
		continue
	fi
	if [[ ! -f "$exe" ]]; then
		sed 's/^/    /' "$OUT/$n.build.log"
		echo "--- windows: $p: FAIL: no test binary was produced: none of its _test.go files builds for windows (build constraints?)"
		status[$p]="NO WINDOWS TESTS"
		continue
	fi
	ipath=$(import_path "$p")
	echo "=== windows: $p: running under wine64 (-test.timeout=$TIMEOUT)"
	# Output goes to a file, not a pipe: Wine's helper processes (services,
	# winedevice) can inherit the test's stdout and keep a pipe open forever.
	raw="$OUT/$n.raw"
	(
		cd "$MOD/$p" &&
			exec timeout --kill-after=15 "$outer_s" "$WINE64" "$exe" -test.v=test2json \
				-test.timeout="$TIMEOUT" -test.paniconexit0 "${EXTRA_FLAGS[@]}"
	) </dev/null >"$raw" 2>&1 &
	wpid=$!
	# Stream it meanwhile (tail stops once the test binary has exited).
	tail -n +1 -s 0.2 --pid="$wpid" -f "$raw" | sed -u -e 's/\r$//' -e '/^\x16=== NAME/d' -e 's/\x16//g' || true
	rc=0
	wait "$wpid" || rc=$?
	secs[$p]=$((SECONDS - start))
	# The framed output (with test2json's ^V markers) feeds test2json; the
	# saved log is the plain -test.v text.
	sed -i 's/\r$//' "$raw"
	sed -e '/^\x16=== NAME/d' -e 's/\x16//g' "$raw" >"$log"
	if ! "$GO" tool test2json -p "$ipath" <"$raw" >"$json" 2>"$OUT/$n.test2json.err"; then
		cat "$OUT/$n.test2json.err" >&2
		echo "--- windows: $p: FAIL: go tool test2json could not convert the output of $exe"
		status[$p]="FAIL"
		continue
	fi
	rm -f "$raw" "$OUT/$n.test2json.err"
	read -r r ps fl sk pkgaction < <(count_events "$json")
	unfinished_tests "$json" >"$OUT/$n.unfinished"
	unfinished=$(wc -l <"$OUT/$n.unfinished")
	((unfinished > 0)) || rm -f "$OUT/$n.unfinished"
	nrun[$p]=$r npass[$p]=$ps nfail[$p]=$((fl + unfinished)) nskip[$p]=$sk
	if ((unfinished > 0)); then
		echo "--- windows: $p: test(s) started but never finished (counted as failed):" $(<"$OUT/$n.unfinished")
	fi
	if ((rc == 124 || rc == 137)); then
		status[$p]="TIMEOUT (killed)"
		echo "--- windows: $p: FAIL: killed after ${outer_s}s (the binary did not stop at -test.timeout=$TIMEOUT)"
	elif ((rc != 0)) && grep -q '^panic: test timed out after' "$log"; then
		status[$p]="TIMEOUT"
		echo "--- windows: $p: FAIL: -test.timeout=$TIMEOUT reached"
	elif ((rc != 0)) && { ((unfinished > 0)) || { ((fl == 0)) && [[ "$pkgaction" != fail ]]; }; }; then
		status[$p]="CRASH (exit $rc)"
		echo "--- windows: $p: FAIL: test binary crashed or exited with status $rc"
	elif ((rc != 0)); then
		status[$p]="FAIL"
	elif [[ "$pkgaction" != "pass" ]] || ((fl + unfinished > 0)); then
		status[$p]="FAIL (exit 0)"
		echo "--- windows: $p: FAIL: test binary exited 0 but did not report PASS (result: $pkgaction)"
	elif ((r == 0)) && ((!test_filtered)); then
		status[$p]="NO TESTS RUN"
		echo "--- windows: $p: FAIL: the test binary ran no test"
	else
		status[$p]="ok"
	fi
done

wine_cleanup
trap - EXIT

# ---- summary --------------------------------------------------------------------
t_run=0 t_pass=0 t_fail=0 t_skip=0 bad=0
echo
echo "Windows test summary (GOOS=windows GOARCH=amd64 under $("$WINE64" --version 2>/dev/null || echo wine), logs in $OUT):"
printf '%-32s %-18s %6s %6s %6s %6s %7s\n' PACKAGE STATUS RUN PASSED FAILED SKIPPED TIME
for p in "${selected[@]}"; do
	st=${status[$p]}
	printf '%-32s %-18s %6d %6d %6d %6d %6ss\n' "$p" "$st" "${nrun[$p]}" "${npass[$p]}" "${nfail[$p]}" "${nskip[$p]}" "${secs[$p]}"
	t_run=$((t_run + ${nrun[$p]})) t_pass=$((t_pass + ${npass[$p]})) t_skip=$((t_skip + ${nskip[$p]}))
	t_fail=$((t_fail + ${nfail[$p]}))
	if [[ "$st" != ok ]]; then
		bad=$((bad + 1))
		# A package failing with no failed test still counts as one failure.
		((${nfail[$p]} > 0)) || t_fail=$((t_fail + 1))
	fi
done
printf '%-32s %-18s %6d %6d %6d %6d\n' TOTAL "$bad of ${#selected[@]} failed" "$t_run" "$t_pass" "$t_fail" "$t_skip"
for p in "${skipped_pkgs[@]}"; do
	echo "NOT TESTED on windows (WINDOWS_TEST_SKIP_PKGS): $p"
done
for p in "${untested[@]}"; do
	echo "NOT TESTED on windows (package has no _test.go files): $p"
done
if ((bad > 0)); then
	echo
	echo "Failures:"
	for p in "${selected[@]}"; do
		[[ "${status[$p]}" == ok ]] && continue
		n=$(name_of "$p")
		echo "  $p: ${status[$p]}"
		if [[ -f "$OUT/$n.json" ]]; then
			failed_tests "$OUT/$n.json" | sed 's/^/    --- FAIL: /'
			[[ ! -f "$OUT/$n.unfinished" ]] || sed 's/^/    --- DID NOT FINISH: /' "$OUT/$n.unfinished"
			echo "    log: $OUT/$n.log"
		else
			echo "    build log: $OUT/$n.build.log"
		fi
	done
fi
echo "windows: $t_pass passed, $t_fail failed, $t_skip skipped"
((bad == 0))
