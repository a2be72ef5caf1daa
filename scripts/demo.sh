#!/usr/bin/env bash
# What make demo runs: mmcat at work on testdata/. It shows a file with
# line numbers, copies one into a POSIX and a System V shared-memory segment,
# reads each back and compares the bytes. The segments it made are removed
# on the way out, whether the demo succeeded or not.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
shm_name=mmapkit-demo
sysv_key=0x6d6d6364 # "mmcd"
made_shm=
made_sysv=
cleanup() {
	[ -n "$made_shm" ] && rm -f "/dev/shm/$shm_name"
	[ -n "$made_sysv" ] && ipcrm -M "$sysv_key" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

echo "== go build -o $work/mmcat ./cmd/mmcat"
go build -o "$work/mmcat" ./cmd/mmcat
mmcat=$work/mmcat

echo
echo "== mmcat -n testdata/lines.txt | head -5"
"$mmcat" -n testdata/lines.txt | head -5

src=testdata/words.txt
echo
echo "== mmcat -o shm:$shm_name $src   (POSIX shared memory)"
made_shm=1
"$mmcat" --force -o "shm:$shm_name" "$src"
ls -l "/dev/shm/$shm_name" 2>/dev/null | sed 's/^/   /' || true
"$mmcat" "shm:$shm_name" >"$work/back-shm"
if cmp -s "$src" "$work/back-shm"; then
	echo "   read back $(wc -c <"$work/back-shm") bytes: identical to $src"
else
	echo "   read back bytes that DIFFER from $src" >&2
	exit 1
fi

echo
echo "== mmcat -o sysv:$sysv_key $src   (System V shared memory)"
made_sysv=1
"$mmcat" --force -o "sysv:$sysv_key" "$src"
ipcs -m | awk -v k="$sysv_key" 'NR == 3 || $1 == k { print "   " $0 }'
"$mmcat" "sysv:$sysv_key" >"$work/back-sysv"
if cmp -s "$src" "$work/back-sysv"; then
	echo "   read back $(wc -c <"$work/back-sysv") bytes: identical to $src"
else
	echo "   read back bytes that DIFFER from $src" >&2
	exit 1
fi

echo
echo "== mmcat --offset 6 --length 24 testdata/hello.txt"
"$mmcat" --offset 6 --length 24 testdata/hello.txt
echo
echo
echo "demo done; removing shm:$shm_name and sysv:$sysv_key"
