package main

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

// refParseSize is the specification of parseSize, spelled out with
// arbitrary precision: decimal digits, an optional K, M or G in either
// case, and a result that fits in an int64.
func refParseSize(s string) (int64, bool) {
	mult := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1<<10, s[:n-1]
		case 'm', 'M':
			mult, s = 1<<20, s[:n-1]
		case 'g', 'G':
			mult, s = 1<<30, s[:n-1]
		}
	}
	if s == "" {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return 0, false
	}
	v.Mul(v, big.NewInt(mult))
	if v.Cmp(big.NewInt(math.MaxInt64)) > 0 {
		return 0, false
	}
	return v.Int64(), true
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"17", 17, true}, {"1K", 1024, true}, {"1k", 1024, true},
		{"3M", 3 << 20, true}, {"2g", 2 << 30, true}, {"007", 7, true},
		{"9223372036854775807", math.MaxInt64, true}, {"8589934591G", 8589934591 << 30, true},
		{"", 0, false}, {"K", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {"1.5K", 0, false},
		{"1KB", 0, false}, {"1T", 0, false}, {" 1", 0, false}, {"0x10", 0, false},
		{"9223372036854775808", 0, false}, {"8589934592G", 0, false},
	} {
		got, err := parseSize(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

// FuzzSizes checks parseSize against its arbitrary-precision reference.
func FuzzSizes(f *testing.F) {
	for _, s := range []string{"0", "1K", "10m", "3G", "", "K", "-5", "99999999999999999999", "8589934591G", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseSize(s)
		want, ok := refParseSize(s)
		if (err == nil) != ok || got != want {
			t.Fatalf("parseSize(%q) = %d, %v; reference %d, ok %v", s, got, err, want, ok)
		}
	})
}

// FuzzRange copies a file through the command's own opener and copier,
// mapped and streamed, with --offset and --length (a negative length is no
// --length), and compares with slicing the data.
func FuzzRange(f *testing.F) {
	f.Add([]byte("hello, world\n"), int64(0), int64(-1))
	f.Add([]byte("hello, world\n"), int64(7), int64(3))
	f.Add([]byte("hello, world\n"), int64(13), int64(5))
	f.Add([]byte("hello, world\n"), int64(14), int64(-1))
	f.Add(bytes.Repeat([]byte{0xff}, 9000), int64(4095), int64(4098))
	f.Add([]byte{}, int64(0), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, off, length int64) {
		if off < 0 || length < -1 {
			return // refused by parseSize before this point
		}
		path := filepath.Join(t.TempDir(), "in")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var want []byte
		wantErr := off > int64(len(data))
		if !wantErr {
			want = data[off:]
			if length >= 0 && length < int64(len(want)) {
				want = want[:length]
			}
		}
		rng := byteRange{offset: off, length: length}
		in, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		o := &opener{rng: rng, stdin: in}
		for _, arg := range []string{path, "-"} {
			got, err := copyOne(o, arg)
			var oe *errOffset
			if wantErr {
				if !errors.As(err, &oe) || oe.offset != off || oe.size != int64(len(data)) {
					t.Fatalf("%s: offset %d of %d bytes: err %v, want the offset and the size", arg, off, len(data), err)
				}
				continue
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: offset %d length %d of %d bytes: got %d bytes, %v; want %d", arg, off, length, len(data), len(got), err, len(want))
			}
		}
	})
}

// copyOne opens arg and copies it to memory as the command would.
func copyOne(o *opener, arg string) ([]byte, error) {
	s, err := o.open(arg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	var out bytes.Buffer
	c := newCopier(&out, catOptions{}, 7, nil)
	if err := c.copy(s); err != nil {
		return nil, err
	}
	return out.Bytes(), c.close()
}
