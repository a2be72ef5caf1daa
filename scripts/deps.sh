#!/usr/bin/env bash
# deps.sh - install the tools the tests use as oracles, when they are missing.
#
# mmcat's tests compare `mmcat -o DEST` with `cat > DEST` down to extended
# attributes and ACLs, read with getfattr (Debian package attr) and set with
# setfattr and setfacl (attr, acl); file capabilities are set with setcap
# (libcap2-bin). Only what is missing is installed, with apt-get, as root
# or through password-less sudo; `apt-get update` runs only when the
# install fails. Without apt-get, or without the rights, it says what is
# missing and exits 0: the tests that need a tool skip and name it.
#
# `deps.sh bench` installs as well what `make bench-cli` times with:
# hyperfine (Debian package hyperfine).
set -euo pipefail

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need getfattr attr
need setfattr attr
need setfacl acl
need setcap libcap2-bin
[[ ${1:-} == bench ]] && need hyperfine hyperfine
((${#missing[@]} == 0)) && exit 0
# One package may provide several of the commands.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
	if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
		echo "deps.sh: not installing ${missing[*]}: needs root; the tests that use them will skip" >&2
		exit 0
	fi
	SUDO=(sudo -n)
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: no apt-get to install ${missing[*]}; the tests that use them will skip" >&2
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
install=("${SUDO[@]}" apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}")
echo "deps.sh: installing ${missing[*]}" >&2
if ! "${install[@]}" >/dev/null; then
	# Package lists missing or stale: refresh them once and retry.
	"${SUDO[@]}" apt-get update -q -o DPkg::Lock::Timeout=600 >/dev/null
	"${install[@]}" >/dev/null
fi
