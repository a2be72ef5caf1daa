package sysv

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
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
		if !errors.Is(err, errors.ErrUnsupported) || !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: got %v, want an error wrapping errors.ErrUnsupported", name, err)
			continue
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "not available on this platform") {
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
			t.Fatalf("Ftok on %s: got %v, %v, want ErrUnsupported", runtime.GOOS, k, err)
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

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Key
		wantErr string
	}{
		{"0x0000abcd", 0xabcd, ""},
		{"0XABCD", 0xabcd, ""},
		{"0xffffffff", -1, ""},
		{"-1412567295", -1412567295, ""},
		{"0", 0, ""},
		{"2147483647", math.MaxInt32, ""},
		{"2147483648", 0, "out of range"},
		{"0x100000000", 0, "out of range"},
		{"0x", 0, "want hex digits"},
		{"0x-1", 0, "want hex digits"},
		{"key", 0, "invalid syntax"},
		{"", 0, "invalid syntax"},
		{"0xg", 0, "invalid syntax"},
	} {
		got, err := ParseKey(tc.in)
		if tc.wantErr == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseKey(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.in) {
			t.Errorf("ParseKey(%q) = %v, %v, want an error naming the input and saying %q", tc.in, got, err, tc.wantErr)
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
	if !errors.Is(err, ErrInvalidSize) || !strings.Contains(err.Error(), "expected size 0") {
		t.Errorf("Open with ExpectSize(0): got %v, want ErrInvalidSize naming the size", err)
	}
}
