#!/usr/bin/env bash
# setup-wine.sh - prepare this Linux machine to run the project's Windows
# (windows/amd64) Go test binaries under Wine.
#
# Why: mmapkit has Windows-specific code (CreateFileMapping/MapViewOfFile,
# named shared memory) that the Linux test run never compiles or executes.
# scripts/windows/test.sh cross-compiles the tests and runs them under Wine;
# this script makes sure Wine is there and usable for that.
#
# What it does (idempotent; silent and takes about a second when all is in
# place):
#   1. installs the Debian packages wine64, wine and gcc-mingw-w64-x86-64 if
#      they are missing (running `apt-get update` only when the install fails
#      with the current package lists);
#   2. creates a Wine prefix inside the checkout, $REPO/.cache/wine (git-ignored
#      via /.cache/), without GUI dialogs (no Mono/Gecko installers);
#   3. builds scripts/windows/bcryptprimitives.c into bcryptprimitives.dll
#      and installs it into the prefix's C:\windows\system32. Go >= 1.24 on
#      Windows needs ProcessPrng from bcryptprimitives.dll, which Wine 8.0
#      (Debian 12) does not provide, so without it every Go binary aborts at
#      startup. The prefix's registry is told to prefer this native DLL.
#      The same DLL also makes Go's file deletion (os.RemoveAll, t.TempDir)
#      work on Wine 8.0: see the comment at the top of bcryptprimitives.c;
#   4. checks, with a small program built by mingw, that ProcessPrng loads
#      from system32 and returns random bytes, and that the deletion fix is
#      in effect.
#
# Usage: setup-wine.sh [--print-env]
#   --print-env  after setting up, print WINE64=, WINESERVER= and WINEPREFIX=
#                assignments (shell-quoted) for test.sh to eval.
#
# Environment:
#   MMAPKIT_WINEPREFIX  Wine prefix to use (default: $REPO/.cache/wine); a lock
#                       file "<prefix>.lock" serialises its users
#   WINE64              Wine 64-bit loader (default: wine64 on PATH, else
#                       /usr/lib/wine/wine64 as shipped by Debian)
#
# Output goes to <prefix>.setup.log (.cache/wine.setup.log); it is printed
# only on failure.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
CACHE="$REPO/.cache"
PREFIX="${MMAPKIT_WINEPREFIX:-$CACHE/wine}"
BUILD="$CACHE/wine-build"
DLL_SRC="$SCRIPT_DIR/bcryptprimitives.c"
MINGW_CC=x86_64-w64-mingw32-gcc

print_env=0
case "${1:-}" in
--print-env) print_env=1 ;;
"") ;;
*)
	echo "usage: $0 [--print-env]" >&2
	exit 2
	;;
esac

die() {
	echo "setup-wine.sh: error: $*" >&2
	exit 1
}

mkdir -p "$CACHE" "$BUILD" || die "cannot create $CACHE"
[[ "$PREFIX" == /* ]] || PREFIX="$PWD/$PREFIX"
LOG="$PREFIX.setup.log"

# Run a command with its output sent to the log; on failure show the log.
run() {
	local what=$1
	shift
	if ! "$@" >>"$LOG" 2>&1; then
		echo "setup-wine.sh: error: $what failed: $*" >&2
		echo "---- last lines of $LOG ----" >&2
		tail -n 40 "$LOG" >&2
		exit 1
	fi
}

# One user of the prefix at a time: test.sh holds the same lock for a whole
# run (and says so in MMAPKIT_WINE_LOCK_HELD), so setup never changes the
# prefix under a running test.
mkdir -p "$(dirname "$PREFIX")"
LOCK="$PREFIX.lock"
if [[ "${MMAPKIT_WINE_LOCK_HELD:-}" != "$LOCK" ]]; then
	exec 8>"$LOCK" || die "cannot open $LOCK"
	if ! flock -n 8; then
		echo "setup-wine.sh: waiting for another user of $PREFIX to finish..." >&2
		flock 8 || die "cannot lock $LOCK"
	fi
fi
: >"$LOG"

find_wine64() {
	if [[ -n "${WINE64:-}" ]]; then
		[[ -x "$WINE64" ]] || command -v "$WINE64" >/dev/null 2>&1 || return 1
		command -v "$WINE64"
		return 0
	fi
	local c
	for c in "$(command -v wine64 2>/dev/null || true)" /usr/lib/wine/wine64; do
		if [[ -n "$c" && -x "$c" ]]; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

# ---- 1. packages -----------------------------------------------------------
missing=()
find_wine64 >/dev/null || missing+=(wine64 wine)
command -v "$MINGW_CC" >/dev/null 2>&1 || missing+=(gcc-mingw-w64-x86-64)
if ((${#missing[@]} > 0)); then
	SUDO=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null ||
			die "need root (or password-less sudo) to install: ${missing[*]}"
		SUDO=(sudo -n)
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt_install=("${SUDO[@]}" apt-get install -y -q --no-install-recommends
		-o DPkg::Lock::Timeout=600 "${missing[@]}")
	if ! "${apt_install[@]}" >>"$LOG" 2>&1; then
		# Package lists missing or stale: refresh them once and retry.
		run "apt-get update" "${SUDO[@]}" apt-get update -q -o DPkg::Lock::Timeout=600
		run "installing ${missing[*]}" "${apt_install[@]}"
	fi
fi
WINE64=$(find_wine64) || die "Wine 64-bit loader not found after install (looked for wine64 on PATH and /usr/lib/wine/wine64)"
command -v "$MINGW_CC" >/dev/null 2>&1 || die "$MINGW_CC not found after installing gcc-mingw-w64-x86-64"
WINESERVER=""
for c in "$(dirname "$WINE64")/wineserver64" "$(dirname "$WINE64")/wineserver" "$(command -v wineserver 2>/dev/null || true)"; do
	if [[ -n "$c" && -x "$c" ]]; then
		WINESERVER=$c
		break
	fi
done
[[ -n "$WINESERVER" ]] || die "wineserver not found next to $WINE64 or on PATH"

# ---- 2. prefix ---------------------------------------------------------------
export WINEPREFIX="$PREFIX" WINEARCH=win64 WINEDEBUG="${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n,b"
unset DISPLAY WAYLAND_DISPLAY  # no X/Wayland: Wine stays console-only

wine_version=$("$WINE64" --version 2>/dev/null) || die "$WINE64 --version failed"
stamp="$PREFIX/.mmapkit-prefix"
prefix_changed=0
creating="$PREFIX/.mmapkit-creating"
if [[ ! -f "$stamp" ]]; then
	# No stamp: never created, or an earlier creation was interrupted (then
	# the marker below is there). Never wipe a directory this script did not
	# create, such as someone's own Wine prefix.
	if [[ -d "$PREFIX" && ! -f "$creating" ]] && [[ -n "$(ls -A "$PREFIX")" ]]; then
		die "$PREFIX exists but was not created by this script; remove it or set MMAPKIT_WINEPREFIX to another directory"
	fi
	rm -rf "$PREFIX"
	mkdir -p "$PREFIX"
	: >"$creating"
	run "creating the Wine prefix $PREFIX (wineboot --init)" \
		timeout 300 "$WINE64" wineboot --init
	run "waiting for wineserver after wineboot" timeout 120 "$WINESERVER" -w
	prefix_changed=1
elif [[ "$(cat "$stamp")" != "$wine_version" ]]; then
	# Wine was upgraded: update the prefix now rather than in the first test.
	run "updating the Wine prefix $PREFIX (wineboot --update)" \
		timeout 300 "$WINE64" wineboot --update
	run "waiting for wineserver after wineboot" timeout 120 "$WINESERVER" -w
	prefix_changed=1
fi
if ((prefix_changed)); then
	# Record the DLL choices in the prefix itself, so running a test binary
	# by hand with only WINEPREFIX set behaves like test.sh.
	key='HKCU\Software\Wine\DllOverrides'
	run "setting DLL overrides" "$WINE64" reg add "$key" /v bcryptprimitives /d native,builtin /f
	run "setting DLL overrides" "$WINE64" reg add "$key" /v mscoree /d "" /f
	run "setting DLL overrides" "$WINE64" reg add "$key" /v mshtml /d "" /f
	# No interactive crash dialog / debugger for crashing programs.
	run "disabling the crash dialog" "$WINE64" reg add 'HKCU\Software\Wine\WineDbg' /v ShowCrashDialog /t REG_DWORD /d 0 /f
	run "waiting for wineserver after reg add" timeout 120 "$WINESERVER" -w
	echo "$wine_version" >"$stamp"
	rm -f "$creating"
fi

# ---- 3. bcryptprimitives.dll -----------------------------------------------
[[ -f "$DLL_SRC" ]] || die "missing $DLL_SRC"
dll="$BUILD/bcryptprimitives.dll"
if [[ ! -f "$dll" || "$DLL_SRC" -nt "$dll" ]]; then
	run "building bcryptprimitives.dll with $MINGW_CC" \
		"$MINGW_CC" -O2 -shared -s -Wall -Werror -o "$dll.tmp" "$DLL_SRC" -ladvapi32
	mv -f "$dll.tmp" "$dll"
fi
sys32="$PREFIX/drive_c/windows/system32"
[[ -d "$sys32" ]] || die "$sys32 does not exist: the Wine prefix looks broken; remove $PREFIX and rerun"
dll_changed=0
if ! cmp -s "$dll" "$sys32/bcryptprimitives.dll"; then
	cp -f "$dll" "$sys32/bcryptprimitives.dll.tmp"
	mv -f "$sys32/bcryptprimitives.dll.tmp" "$sys32/bcryptprimitives.dll"
	dll_changed=1
fi

# ---- 4. check ProcessPrng --------------------------------------------------
checked="$PREFIX/.mmapkit-prng-ok"
if ((prefix_changed || dll_changed)) || [[ ! -f "$checked" ]]; then
	rm -f "$checked"
	check_src="$BUILD/prngcheck.c"
	cat >"$check_src" <<'EOF'
/* Loads bcryptprimitives.dll the way the Go runtime does, calls ProcessPrng,
   and checks the NtSetInformationFile(FileDispositionInformationEx) answer
   that os.RemoveAll relies on. */
#include <windows.h>
#include <stdio.h>
typedef BOOL (WINAPI *prng_fn)(PBYTE, SIZE_T);
typedef LONG (NTAPI *setinfo_fn)(HANDLE, PVOID, PVOID, ULONG, ULONG);
int main(void) {
    HMODULE h = LoadLibraryExW(L"bcryptprimitives.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
    if (!h) { printf("LoadLibraryExW(bcryptprimitives.dll) failed: %lu\n", GetLastError()); return 1; }
    prng_fn f = (prng_fn)GetProcAddress(h, "ProcessPrng");
    if (!f) { printf("ProcessPrng not exported\n"); return 1; }
    BYTE a[64] = {0}, b[64] = {0};
    if (!f(a, sizeof a) || !f(b, sizeof b)) { printf("ProcessPrng returned FALSE\n"); return 1; }
    if (memcmp(a, b, sizeof a) == 0) { printf("ProcessPrng returned the same bytes twice\n"); return 1; }
    printf("ProcessPrng ok\n");

    WCHAR dir[MAX_PATH], path[MAX_PATH];
    GetTempPathW(MAX_PATH, dir);
    GetTempFileNameW(dir, L"mmk", 0, path);
    HANDLE fh = CreateFileW(path, DELETE | FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                            NULL, OPEN_EXISTING, 0, NULL);
    if (fh == INVALID_HANDLE_VALUE) { printf("CreateFileW(temp file) failed: %lu\n", GetLastError()); return 1; }
    setinfo_fn setinfo = (setinfo_fn)GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtSetInformationFile");
    ULONG_PTR iosb[2] = {0, 0};
    ULONG flags = 0x1 | 0x2; /* FILE_DISPOSITION_DELETE | FILE_DISPOSITION_POSIX_SEMANTICS */
    LONG st = setinfo(fh, iosb, &flags, sizeof flags, 64 /* FileDispositionInformationEx */);
    CloseHandle(fh);
    DeleteFileW(path);
    if ((ULONG)st == 0xC0000002) { printf("NtSetInformationFile(FileDispositionInformationEx) still answers STATUS_NOT_IMPLEMENTED\n"); return 1; }
    printf("FileDispositionInformationEx ok (status 0x%08lx)\n", (ULONG)st);
    return 0;
}
EOF
	run "building the ProcessPrng check program" \
		"$MINGW_CC" -O2 -Wall -o "$BUILD/prngcheck.exe" "$check_src"
	run "running the ProcessPrng check under Wine" timeout 120 "$WINE64" "$BUILD/prngcheck.exe"
	grep -q 'FileDispositionInformationEx ok' "$LOG" || die "the bcryptprimitives.dll check printed no success line (see $LOG)"
	run "waiting for wineserver after the check" timeout 120 "$WINESERVER" -w
	: >"$checked"
fi

if ((print_env)); then
	printf 'WINE64=%q\nWINESERVER=%q\nWINEPREFIX=%q\n' "$WINE64" "$WINESERVER" "$PREFIX"
fi
