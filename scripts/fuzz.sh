#!/usr/bin/env bash
# Runs every Fuzz target of every package for FUZZTIME each. go test takes
# one -fuzz target per run, so the targets are listed and run in turn. Each
# run's log goes to a directory of its own, removed on the way out; a
# failing run's log is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
status=0
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
	for t in $targets; do
		echo "fuzz $pkg $t for $fuzztime"
		log="$logs/${pkg##*/}-$t.log"
		if ! ./scripts/fuzz-one.sh "$pkg" "$t" "$fuzztime" "$log"; then
			cat "$log"
			echo "fuzz target $t in $pkg failed; the failing input is in $dir/testdata/fuzz/$t/"
			status=1
		fi
	done
done
exit $status
