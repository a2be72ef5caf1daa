package sysv

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// keySpellings returns ways to write k that util-linux's ipcrm -M reads as
// k, within the 32 bits ParseKey takes: ipcs's form first, then every
// base, with and without a sign and leading white space. Their number
// depends only on whether k is negative.
func keySpellings(k Key) []string {
	u := uint64(uint32(k))
	d := strconv.FormatUint(u, 10)
	s := []string{
		k.String(), // ipcs -m
		fmt.Sprintf("0x%x", u),
		fmt.Sprintf("0X%X", u),
		fmt.Sprintf("0x%016x", u),
		d, // $((0x...)) in a shell
		"+" + d,
		fmt.Sprintf("0%o", u),
		fmt.Sprintf("+0x%x", u),
		" " + k.String(),
		"\t\n\v\f\r +" + d,
	}
	if k < 0 {
		m := -int64(k)
		s = append(s,
			strconv.FormatInt(int64(k), 10), // /proc/sysvipc/shm, C's %d
			fmt.Sprintf("-0x%x", m),
			fmt.Sprintf("-0%o", m),
			" -"+strconv.FormatInt(m, 10),
		)
	}
	return s
}

// badSpellings returns near misses of k that ipcrm -M refuses to parse,
// whatever k is: trailing white space, prefixes of other languages, stray
// signs and digits. Their number is the same for every k.
func badSpellings(k Key) []string {
	u := uint64(uint32(k))
	d := strconv.FormatUint(u, 10)
	h := strconv.FormatUint(u, 16)
	return []string{
		"", " ", "+", "-", "0x", " 0X",
		k.String() + " ", // white space only before the number
		d + "\n",
		"0x" + h + "g",
		"0x-" + h,
		"++" + d,
		"+-" + d,
		"- " + d,
		d[:1] + "_" + d[1:],                     // Go's digit separator
		"0o" + strconv.FormatUint(u, 8),         // Go's octal prefix
		"0b" + strconv.FormatUint(u, 2),         // C23's binary prefix, not in this strtoul
		"0" + strconv.FormatUint(u, 8) + "8",    // 8 is no octal digit
		"\u00a0" + d,                            // no-break space is not white space in C
		"0x" + h + strings.Repeat("0", 16),      // beyond unsigned long: ERANGE
		"-" + strconv.FormatUint(u, 8) + "9e99", // not a float either
	}
}

// wrapSpellings returns numbers outside 32 bits whose low 32 bits are k.
// ipcrm -M keeps those bits and so reads each as k; ParseKey refuses them
// instead (strconv.ErrRange). Their number is the same for every k.
func wrapSpellings(k Key) []string {
	u := uint64(uint32(k))
	neg := "-" + strconv.FormatUint(1<<32-u, 10) // below -2147483648 when k >= 0
	if k < 0 {
		neg = "-" + strconv.FormatUint(1<<33-u, 10)
	}
	return []string{
		strconv.FormatUint(u+1<<32, 10),
		fmt.Sprintf("0x1%08x", u),
		strconv.FormatUint(math.MaxUint64-math.MaxUint32+u, 10), // the largest strtoul reads
		neg,
	}
}

// How ipcrm -M and ParseKey should read a spelling.
const (
	readsAsKey = "key"  // both read it as the key
	readsBad   = "bad"  // neither reads it
	readsWrap  = "wrap" // ipcrm reads the low 32 bits; ParseKey refuses
)

type keyCase struct{ s, reads string }

// keyCases returns the spellings of k (not Private) with how each should
// be read. Their number depends only on whether k is negative.
func keyCases(k Key) []keyCase {
	var cs []keyCase
	for _, l := range []struct {
		reads string
		s     []string
	}{{readsAsKey, keySpellings(k)}, {readsBad, badSpellings(k)}, {readsWrap, wrapSpellings(k)}} {
		for _, s := range l.s {
			cs = append(cs, keyCase{s, l.reads})
		}
	}
	return cs
}

// strtoulC reads strings in hex, one a line, and prints for each what
// util-linux's ipcrm -M makes of it (strtokey in sys-utils/ipcrm.c:
// strtoul(s, &end, 0), which must use the whole string and leave errno
// clear): whether the whole string was used, whether errno was ERANGE, the
// value, and whether strtol reads it the same way and as what, which tells
// a negative number from a large one.
const strtoulC = `#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int hex(int c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

int main(void) {
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		size_t len = (size_t)n / 2;
		for (size_t i = 0; i < len; i++)
			line[i] = (char)(hex(line[2 * i]) << 4 | hex(line[2 * i + 1]));
		line[len] = 0;
		char *end;
		errno = 0;
		unsigned long u = strtoul(line, &end, 0);
		int full = end != line && !*end, erange = errno == ERANGE;
		errno = 0;
		long l = strtol(line, &end, 0);
		int okl = *line && !errno && end != line && !*end;
		printf("%d %d %lu %d %ld\n", full, erange, u, okl, l);
		fflush(stdout);
	}
	return 0;
}
`

// strtoulResult is what C made of a string.
type strtoulResult struct {
	ok       bool   // strtoul read it as ipcrm wants: all of it, no error
	full     bool   // strtoul read all of it, but maybe with ERANGE
	erange   bool   // strtoul set ERANGE
	u        uint64 // strtoul's value
	okSigned bool   // strtol read it all
	l        int64  // strtol's value
}

// key returns the key ParseKey must give for the string, and false when
// it must refuse it: strtoul must read it, as ipcrm does, and its value
// must be a 32-bit key, unsigned or negative (strtol then reads it as
// -2147483648 to -1).
func (r strtoulResult) key() (Key, bool) {
	if r.ok && (r.u <= math.MaxUint32 || r.okSigned && math.MinInt32 <= r.l && r.l < 0) {
		return Key(int32(uint32(r.u))), true
	}
	return 0, false
}

// strtoulOracle is a running strtoulC.
type strtoulOracle struct {
	mu  sync.Mutex
	in  io.Writer
	out *bufio.Scanner
}

// startStrtoul builds and starts strtoulC, stopped when tb ends. It returns
// nil, having logged why, without a C compiler, and on Windows, where
// unsigned long has 32 bits and ipcrm does not exist.
func startStrtoul(tb testing.TB) *strtoulOracle {
	tb.Helper()
	if runtime.GOOS == "windows" {
		tb.Log("no strtoul reference on windows: unsigned long has 32 bits there")
		return nil
	}
	bin := buildC(tb, "strtoul", strtoulC)
	if bin == "" {
		tb.Log("no C compiler (cc or gcc): ParseKey is not compared with strtoul")
		return nil
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			tb.Errorf("strtoul reference: %v", err)
		}
	})
	return &strtoulOracle{in: in, out: bufio.NewScanner(out)}
}

// buildC compiles the C program src into a temporary directory of tb's
// and returns the program's path, or "" without a C compiler (cc or gcc).
func buildC(tb testing.TB, name, src string) string {
	tb.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		if cc, err = exec.LookPath("gcc"); err != nil {
			return ""
		}
	}
	dir := tb.TempDir()
	file, bin := filepath.Join(dir, name+".c"), filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		tb.Fatal(err)
	}
	if out, err := exec.Command(cc, "-o", bin, file).CombinedOutput(); err != nil {
		tb.Fatalf("%s: %v: %s", cc, err, out)
	}
	return bin
}

// parse returns what C makes of s, which holds no NUL byte.
func (o *strtoulOracle) parse(tb testing.TB, s string) strtoulResult {
	tb.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, err := io.WriteString(o.in, hex.EncodeToString([]byte(s))+"\n"); err != nil {
		tb.Fatalf("strtoul reference: %v", err)
	}
	if !o.out.Scan() {
		tb.Fatalf("strtoul reference: no answer for %q: %v", s, o.out.Err())
	}
	var r strtoulResult
	var full, erange, okSigned int
	if _, err := fmt.Sscan(o.out.Text(), &full, &erange, &r.u, &okSigned, &r.l); err != nil {
		tb.Fatalf("strtoul reference said %q: %v", o.out.Text(), err)
	}
	r.full, r.erange, r.okSigned = full == 1, erange == 1, okSigned == 1
	r.ok = r.full && !r.erange
	return r
}

// checkAgainstStrtoul fails t unless ParseKey(s) does what ipcrm's
// strtoul makes of s, within 32 bits, and says so in the errors expected.
func checkAgainstStrtoul(t *testing.T, o *strtoulOracle, s string) {
	t.Helper()
	got, err := ParseKey(s)
	r := o.parse(t, s)
	want, ok := r.key()
	switch {
	case ok != (err == nil) || got != want:
		t.Errorf("ParseKey(%q) = %v, %v; strtoul and strtol say %+v, so want %v, %v", s, got, err, r, want, ok)
	case ok:
	case r.full:
		// A number, but too large for unsigned long or for a key.
		if !errors.Is(err, strconv.ErrRange) {
			t.Errorf("ParseKey(%q): %v; strtoul says %+v: want a range error", s, err, r)
		}
	case !errors.Is(err, strconv.ErrSyntax):
		t.Errorf("ParseKey(%q): %v; strtoul refuses it: want a syntax error", s, err)
	}
}

// TestParseKeyAgreesWithStrtoul compares ParseKey with C's strtoul, as
// util-linux's ipcrm -M calls it, on every case keyCases lists for keys at
// the edges and in both halves, and checks the cases' own labels with it.
func TestParseKeyAgreesWithStrtoul(t *testing.T) {
	o := startStrtoul(t)
	if o == nil {
		t.Skip("no C compiler to build the strtoul reference")
	}
	for _, k := range []Key{1, 9, 0xabcd, math.MaxInt32, math.MinInt32, -1, Key(int32(-0x605065e5)), 0x5e000001} {
		for _, c := range keyCases(k) {
			checkAgainstStrtoul(t, o, c.s)
			r := o.parse(t, c.s)
			got, ok := r.key()
			reads := "another key"
			switch {
			case ok && got == k:
				reads = readsAsKey
			case r.ok && uint32(r.u) == uint32(k):
				reads = readsWrap
			case !r.ok:
				reads = readsBad
			}
			if reads != c.reads {
				t.Errorf("case %s %q for key %v: strtoul says %+v, which makes it %s", c.reads, c.s, k, r, reads)
			}
		}
	}
}
