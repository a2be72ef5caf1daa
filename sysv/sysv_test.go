package sysv

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestUnsupported checks that every function fails cleanly, with an error
// wrapping errors.ErrUnsupported, where System V shared memory is absent.
func TestUnsupported(t *testing.T) {
	if supported {
		t.Skipf("System V shared memory is available on %s", runtime.GOOS)
	}
	calls := map[string]func() error{
		"Create":        func() error { _, err := Create(0x1234, 4096); return err },
		"Open":          func() error { _, err := Open(0x1234); return err },
		"OpenOrCreate":  func() error { _, err := OpenOrCreate(0x1234, 4096); return err },
		"CreatePrivate": func() error { _, err := CreatePrivate(4096); return err },
		"AttachID":      func() error { _, err := AttachID(1); return err },
		"List":          func() error { _, err := List(); return err },
		"SystemLimits":  func() error { _, err := SystemLimits(); return err },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: got %v, want an error wrapping errors.ErrUnsupported", name, err)
			continue
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "System V shared memory on "+runtime.GOOS) {
			t.Errorf("%s: got %q, want a *fs.PathError saying the platform lacks it", name, err)
		}
	}
}

// TestFtokPlatform checks Ftok where the platform has inode numbers, and its
// error where it has not.
func TestFtokPlatform(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := Ftok(path, 'x')
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("Ftok on %s: got %v, %v, want errors.ErrUnsupported", runtime.GOOS, k, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if uint32(k)>>24 != 'x' {
		t.Errorf("Ftok(%q, 'x') = %v: top byte is not the project id", path, k)
	}
	_, err = Ftok(filepath.Join(t.TempDir(), "missing"), 1)
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "ftok ") {
		t.Errorf("Ftok of a missing file: got %v, want an ftok error matching fs.ErrNotExist", err)
	}
}

func TestKeyString(t *testing.T) {
	for _, tc := range []struct {
		k    Key
		want string
	}{
		{0, "0x00000000"},
		{0xabcd, "0x0000abcd"},
		{-1, "0xffffffff"},
		{math.MinInt32, "0x80000000"},
		{math.MaxInt32, "0x7fffffff"},
	} {
		if got := tc.k.String(); got != tc.want {
			t.Errorf("Key(%d).String() = %q, want %q", int32(tc.k), got, tc.want)
		}
	}
}

// TestParseKey reads keys in every form util-linux's ipcrm -M takes, and
// checks what the errors say for those it refuses.
func TestParseKey(t *testing.T) {
	const (
		rangeMsg = "out of range: a key is 32 bits, from 0 to 4294967295 (0xffffffff), or negative down to -2147483648 (-0x80000000)"
		octal    = " (a leading 0 means octal, as for ipcrm -M)"
		trailing = " (white space may only come before the number)"
	)
	for _, tc := range []struct {
		in      string
		want    Key
		wantErr string
		kind    error
	}{
		{in: "0x0000abcd", want: 0xabcd},
		{in: "0XABCD", want: 0xabcd},
		{in: "0xffffffff", want: -1},
		{in: "0x9faf9a1b", want: -0x605065e5},
		{in: "2679085595", want: -0x605065e5},
		{in: "-1615881701", want: -0x605065e5},
		{in: "-1412567295", want: -1412567295},
		{in: "0", want: 0},
		{in: "-0", want: 0},
		{in: "00", want: 0},
		{in: "2147483647", want: math.MaxInt32},
		{in: "2147483648", want: math.MinInt32},
		{in: "4294967295", want: -1},
		{in: "-2147483648", want: math.MinInt32},
		{in: "-0x80000000", want: math.MinInt32},
		{in: "-0x1", want: -1},
		{in: "0777", want: 0o777},
		{in: "037777777777", want: -1},
		{in: "+12", want: 12},
		{in: "+0x10", want: 16},
		{in: " \t\n\v\f\r-1", want: -1},
		{in: "0x00000000000000000001", want: 1},

		{in: "4294967296", wantErr: `"4294967296": ` + rangeMsg, kind: strconv.ErrRange},
		{in: "4294967297", wantErr: `"4294967297": ` + rangeMsg, kind: strconv.ErrRange},
		{in: "-2147483649", wantErr: `"-2147483649": ` + rangeMsg, kind: strconv.ErrRange},
		{in: "-4294967295", wantErr: rangeMsg, kind: strconv.ErrRange},
		{in: "0x100000000", wantErr: rangeMsg, kind: strconv.ErrRange},
		{in: "040000000000", wantErr: rangeMsg, kind: strconv.ErrRange},
		{in: "99999999999999999999999999", wantErr: rangeMsg, kind: strconv.ErrRange},
		{in: "", wantErr: `"": want a number: 0x and hex digits, decimal, or 0 and octal digits`, kind: strconv.ErrSyntax},
		{in: " \t", wantErr: `" \t": want a number`, kind: strconv.ErrSyntax},
		{in: "-", wantErr: `"-": want digits after the sign`, kind: strconv.ErrSyntax},
		{in: "0x", wantErr: `"0x": want hex digits after 0x`, kind: strconv.ErrSyntax},
		{in: "-0X", wantErr: `"-0X": want hex digits after 0X`, kind: strconv.ErrSyntax},
		{in: "0x-1", wantErr: `"0x-1": '-' at offset 2 is not a hex digit`, kind: strconv.ErrSyntax},
		{in: "0xg", wantErr: `"0xg": 'g' at offset 2 is not a hex digit`, kind: strconv.ErrSyntax},
		{in: "08", wantErr: `"08": '8' at offset 1 is not an octal digit` + octal, kind: strconv.ErrSyntax},
		{in: "0o17", wantErr: `"0o17": 'o' at offset 1 is not an octal digit`, kind: strconv.ErrSyntax},
		{in: "0b1", wantErr: `"0b1": 'b' at offset 1 is not an octal digit`, kind: strconv.ErrSyntax},
		{in: "1_000", wantErr: `"1_000": '_' at offset 1 is not a decimal digit`, kind: strconv.ErrSyntax},
		{in: "12 ", wantErr: `"12 ": ' ' at offset 2 is not a decimal digit` + trailing, kind: strconv.ErrSyntax},
		{in: "0x1\n", wantErr: `"0x1\n": '\n' at offset 3 is not a hex digit` + trailing, kind: strconv.ErrSyntax},
		{in: "+-1", wantErr: `"+-1": '-' at offset 1 is not a decimal digit`, kind: strconv.ErrSyntax},
		{in: "key", wantErr: `"key": 'k' at offset 0 is not a decimal digit`, kind: strconv.ErrSyntax},
		{in: "1\x00", wantErr: `"1\x00": '\x00' at offset 1 is not a decimal digit`, kind: strconv.ErrSyntax},
		{in: "\u00a01", wantErr: `"\u00a01": '\u00a0' at offset 0 is not a decimal digit`, kind: strconv.ErrSyntax},
		{in: "1\xff", wantErr: `"1\xff": byte 0xff at offset 1 is not a decimal digit`, kind: strconv.ErrSyntax},
	} {
		got, err := ParseKey(tc.in)
		if tc.wantErr == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseKey(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), "sysv: parse key ") || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, tc.kind) {
			t.Errorf("ParseKey(%q) = %v, %v; want an error saying %q, wrapping %v", tc.in, got, err, tc.wantErr, tc.kind)
		}
	}
}

// TestFtokKey checks the arithmetic against values worked out by hand from
// glibc's sysvipc/ftok.c.
func TestFtokKey(t *testing.T) {
	for _, tc := range []struct {
		proj     byte
		dev, ino uint64
		want     Key
	}{
		{'A', 0x803, 0x12345, 0x41033456 - 0x1111},
		{0, 0, 0, 0},
		{0xff, 0xffffffff, 0xffffffffffffffff, -1},
		{0x80, 0x10302, 0x1_0000_0001, Key(-0x7ffe0000 + 1)},
		{1, 0xfd01, 0xabcdef, 0x0101cdef},
	} {
		if got := ftokKey(tc.proj, tc.dev, tc.ino); got != tc.want {
			t.Errorf("ftokKey(%#x, %#x, %#x) = %v, want %v", tc.proj, tc.dev, tc.ino, got, tc.want)
		}
	}
}

func TestBadOptions(t *testing.T) {
	if !supported {
		t.Skip("no System V shared memory on " + runtime.GOOS)
	}
	for name, call := range map[string]func() error{
		"Create Mode(04777)":   func() error { _, err := Create(0x5e000000, 1, Mode(0o4777|fs.ModeSetuid)); return err },
		"Create Mode(dir)":     func() error { _, err := Create(0x5e000000, 1, Mode(fs.ModeDir|0o600)); return err },
		"Create Private":       func() error { _, err := Create(Private, 1); return err },
		"Open Private":         func() error { _, err := Open(Private); return err },
		"OpenOrCreate Private": func() error { _, err := OpenOrCreate(Private, 1); return err },
		"AttachID(-1)":         func() error { _, err := AttachID(-1); return err },
	} {
		err := call()
		if !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("%s: got %v, want an error matching fs.ErrInvalid", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	_, err := Open(0x5e000000, ExpectSize(0))
	if !errors.Is(err, ioadapt.ErrInvalidSize) || !strings.Contains(err.Error(), "expected size 0") {
		t.Errorf("Open with ExpectSize(0): got %v, want ioadapt.ErrInvalidSize naming the size", err)
	}
}
