#!/usr/bin/env bash
# What make demo runs: mmapkit at work on testdata/, each step explained in
# one line as it runs. mmcat shows a file with line numbers, copies one into
# a POSIX and a System V shared-memory segment and reads each back, and
# cuts a range out of a file. Then a file is truncated under its readers,
# the classic way mapped memory kills a process: a reader that mapped it by
# hand dies of SIGBUS, one through mmfile gets an error and goes on, and
# so does mmcat. The segments it made are removed on the way out, whether
# the demo succeeded or not.
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

# step prints a step's command and, under it, what the step shows.
step() {
	echo
	echo "== $1"
	echo "   ($2)"
}

echo "== go build -o $work/mmcat ./cmd/mmcat; go build -o $work/demo ./internal/demo"
go build -o "$work/mmcat" ./cmd/mmcat
go build -o "$work/demo" ./internal/demo
mmcat=$work/mmcat

step "mmcat -n testdata/lines.txt | head -5" \
	"a drop-in cat: GNU cat's options and output, the file read through a memory map"
"$mmcat" -n testdata/lines.txt | head -5

# readback reads the segment $1 back into a file and compares it with $src.
readback() {
	"$mmcat" "$1" >"$work/back"
	if cmp -s "$src" "$work/back"; then
		echo "   mmcat $1: read back $(wc -c <"$work/back") bytes, identical to $src"
	else
		echo "   mmcat $1: read back bytes that DIFFER from $src" >&2
		exit 1
	fi
}

src=testdata/words.txt
step "mmcat -o shm:$shm_name $src; mmcat shm:$shm_name" \
	"a file into a new POSIX shared-memory segment, which any process can open by name, and back out"
made_shm=1
"$mmcat" --force -o "shm:$shm_name" "$src"
ls -l "/dev/shm/$shm_name" 2>/dev/null | sed 's/^/   /' || true
readback "shm:$shm_name"

step "mmcat -o sysv:$sysv_key $src; mmcat sysv:$sysv_key" \
	"the same through System V shared memory, by the numeric key that ipcs lists"
made_sysv=1
"$mmcat" --force -o "sysv:$sysv_key" "$src"
ipcs -m | awk -v k="$sysv_key" 'NR == 3 || $1 == k { print "   " $0 }'
readback "sysv:$sysv_key"

step "mmcat --offset 6 --length 24 testdata/hello.txt" \
	"a range of a file, straight from the mapping"
"$mmcat" --offset 6 --length 24 testdata/hello.txt
echo

step "demo   (the program in internal/demo, built above)" \
	"another process truncates a mapped file: a hand-made mapping kills its reader, mmfile returns an error"
"$work/demo"

# mmcat writes into a pipe at most the pipe's capacity ahead of its reader
# (it raises it to pipe-max-size), so a file larger than what the reader
# takes first plus twice that capacity is still being copied when it is
# truncated: mmcat meets the truncation in every run.
pipe_max=$(cat /proc/sys/fs/pipe-max-size 2>/dev/null || echo 1048576)
big=$work/big
head -c $((16 * 1048576 + 2 * pipe_max)) /dev/zero | tr '\0' 'x' >"$big"
step "mmcat big | { head -c 1M >/dev/null; : >big; cat >/dev/null; }" \
	"mmcat copies a $(($(wc -c <"$big") / 1048576)) MiB file into a pipe; after the first MiB is read, another process truncates the file"
set +e
"$mmcat" "$big" 2>"$work/mmcat.err" | { head -c 1M >/dev/null; : >"$big"; cat >/dev/null; }
mmcat_status=${PIPESTATUS[0]}
set -e
msg=$(cat "$work/mmcat.err")
if [ "$mmcat_status" -eq 1 ] && [[ "$msg" == *"$big"* ]]; then
	echo "   mmcat exited 1, saying: $msg"
elif [ "$mmcat_status" -gt 128 ]; then
	echo "   mmcat DIED of signal $((mmcat_status - 128)): $msg" >&2
	exit 1
else
	echo "   mmcat exited $mmcat_status without an error naming $big, which it should have met: $msg" >&2
	exit 1
fi

echo
echo "demo done; removing shm:$shm_name and sysv:$sysv_key"
