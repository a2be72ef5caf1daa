package sysv

import (
	"encoding/binary"
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

// FuzzParseKey checks that every key survives String and its decimal form,
// and that any string ParseKey accepts is that key in one of the two
// spellings, which strconv parses to the same value.
func FuzzParseKey(f *testing.F) {
	f.Add(int32(0), "0x0000abcd")
	f.Add(int32(-1), "-1412567295")
	f.Add(int32(0x5e000001), "0XFFFFFFFF")
	f.Add(int32(7), "0x")
	f.Add(int32(7), "+12")
	f.Fuzz(func(t *testing.T, k int32, s string) {
		for _, text := range []string{Key(k).String(), strconv.FormatInt(int64(k), 10)} {
			if got, err := ParseKey(text); err != nil || got != Key(k) {
				t.Fatalf("ParseKey(%q) = %v, %v, want %v", text, got, err, Key(k))
			}
		}
		got, err := ParseKey(s)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("ParseKey(%q) error %q does not quote the input", s, err)
			}
			return
		}
		if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
			v, err := strconv.ParseUint(h, 16, 64)
			if err != nil || v > 1<<32-1 || uint32(got) != uint32(v) {
				t.Fatalf("ParseKey(%q) = %v; strconv says %#x, %v", s, got, v, err)
			}
			return
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || int64(got) != v {
			t.Fatalf("ParseKey(%q) = %v; strconv says %d, %v", s, got, v, err)
		}
	})
}
