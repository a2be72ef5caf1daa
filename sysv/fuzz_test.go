package sysv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// FuzzFtokKey checks ftok's arithmetic against the key assembled byte by
// byte, most significant first: the project id, the low byte of st_dev,
// then the low two bytes of st_ino.
func FuzzFtokKey(f *testing.F) {
	f.Add(byte('A'), uint64(0x803), uint64(0x12345))
	f.Add(byte(0), uint64(0), uint64(0))
	f.Add(byte(0xff), uint64(1<<64-1), uint64(1<<64-1))
	f.Add(byte(0x80), uint64(0xfd00), uint64(0x10000))
	f.Fuzz(func(t *testing.T, proj byte, dev, ino uint64) {
		want := binary.BigEndian.Uint32([]byte{proj, byte(dev), byte(ino >> 8), byte(ino)})
		if got := ftokKey(proj, dev, ino); uint32(got) != want {
			t.Fatalf("ftokKey(%#x, %#x, %#x) = %v, want %#08x", proj, dev, ino, got, want)
		}
	})
}

// FuzzParseKey checks that every way of writing a key reads back as that
// key, Key.String's first, that whatever ParseKey accepts prints in a form
// it reads back, and, where a C compiler is at hand, that ParseKey accepts
// exactly what C's strtoul reads as util-linux's ipcrm -M calls it, within
// 32 bits, with the same value.
func FuzzParseKey(f *testing.F) {
	f.Add(int32(0), "0x0000abcd")
	f.Add(int32(-1), "-1412567295")
	f.Add(int32(0x5e000001), "0XFFFFFFFF")
	f.Add(int32(-0x605065e5), "2679085595")
	f.Add(int32(7), "0x")
	f.Add(int32(7), "+12")
	f.Add(int32(7), "0777")
	f.Add(int32(7), "08")
	f.Add(int32(7), " \t-0x80000000")
	f.Add(int32(7), "4294967297")
	f.Add(int32(7), "-2147483649")
	f.Add(int32(7), "12 ")
	f.Add(int32(7), "1\x00")
	o := startStrtoul(f)
	f.Fuzz(func(t *testing.T, k int32, s string) {
		for _, text := range keySpellings(Key(k)) {
			if got, err := ParseKey(text); err != nil || got != Key(k) {
				t.Fatalf("ParseKey(%q) = %v, %v, want %v", text, got, err, Key(k))
			}
		}
		got, err := ParseKey(s)
		if err == nil {
			if back, err := ParseKey(got.String()); err != nil || back != got {
				t.Fatalf("ParseKey(%q) = %v, whose printing form reads as %v, %v", s, got, back, err)
			}
		} else {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("ParseKey(%q) error %q does not quote the input", s, err)
			}
			if !errors.Is(err, strconv.ErrSyntax) && !errors.Is(err, strconv.ErrRange) {
				t.Fatalf("ParseKey(%q) error %q wraps neither strconv.ErrSyntax nor strconv.ErrRange", s, err)
			}
		}
		if strings.IndexByte(s, 0) >= 0 {
			// No C string, and so no argument of ipcrm, holds one.
			if err == nil {
				t.Fatalf("ParseKey(%q) = %v, want an error for the NUL byte", s, got)
			}
			return
		}
		if o != nil {
			checkAgainstStrtoul(t, o, s)
		}
	})
}
