package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// gnuCatPath is the GNU cat used as the reference implementation.
const gnuCatPath = "/usr/bin/cat"

var (
	gnuCatOnce   sync.Once
	gnuCatReason string // why GNU cat cannot serve as the oracle; "" if it can
)

// requireGNUCat skips tb unless gnuCatPath is GNU cat 9.0 or later. 9.0 is
// the release that made -E show "\r\n" as "^M$"; the formatting code has
// not changed since.
func requireGNUCat(tb testing.TB) {
	tb.Helper()
	gnuCatOnce.Do(func() {
		out, err := exec.Command(gnuCatPath, "--version").Output()
		if err != nil {
			gnuCatReason = fmt.Sprintf("%s --version: %v", gnuCatPath, err)
			return
		}
		first, _, _ := strings.Cut(string(out), "\n")
		m := regexp.MustCompile(`^cat \(GNU coreutils\) (\d+)\.`).FindStringSubmatch(first)
		if m == nil {
			gnuCatReason = fmt.Sprintf("%s is not GNU cat (%q)", gnuCatPath, first)
			return
		}
		if major, _ := strconv.Atoi(m[1]); major < 9 {
			gnuCatReason = fmt.Sprintf("%s is %q; need GNU coreutils 9.0 or later for -E on \\r\\n", gnuCatPath, first)
		}
	})
	if gnuCatReason != "" {
		tb.Skip("no reference cat: " + gnuCatReason)
	}
}

// writeInputs writes each input to its own file in dir and returns the
// file names in order.
func writeInputs(tb testing.TB, dir string, inputs [][]byte) []string {
	tb.Helper()
	names := make([]string, len(inputs))
	for i, in := range inputs {
		names[i] = filepath.Join(dir, fmt.Sprintf("in%d", i))
		if err := os.WriteFile(names[i], in, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return names
}

// gnuCat runs GNU cat with flags (a cluster of option letters such as
// "bnE", or "" for none) on the named files and returns its standard
// output.
func gnuCat(tb testing.TB, flags string, names []string) []byte {
	tb.Helper()
	var args []string
	if flags != "" {
		args = append(args, "-"+flags)
	}
	args = append(args, names...)
	cmd := exec.Command(gnuCatPath, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s %q: %v: %s", gnuCatPath, args, err, stderr.Bytes())
	}
	return out
}

// parseFlags turns a cluster of cat option letters into options.
func parseFlags(tb testing.TB, flags string) catOptions {
	tb.Helper()
	var o catOptions
	for i := 0; i < len(flags); i++ {
		if !o.setShort(flags[i]) {
			tb.Fatalf("bad option letter %q in %q", flags[i], flags)
		}
	}
	return o
}

// chunker decides the size of the next Write given the bytes left of the
// current input; nil writes each input whole.
type chunker func(left int) int

// format runs the formatter over the inputs, one input after another as
// the command does, splitting each into Writes with next and flushing
// between Writes when flushEvery is set.
func format(tb testing.TB, o catOptions, inputs [][]byte, next chunker, bufSize int, flushEvery bool) []byte {
	tb.Helper()
	var out bytes.Buffer
	f := newCatFormatterSize(&out, o, bufSize)
	for _, in := range inputs {
		for len(in) > 0 {
			n := len(in)
			if next != nil {
				n = min(max(next(len(in)), 1), len(in))
			}
			if w, err := f.Write(in[:n]); err != nil || w != n {
				tb.Fatalf("Write = %d, %v; want %d, nil", w, err, n)
			}
			in = in[n:]
			if flushEvery {
				if err := f.Flush(); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// formatWhole formats the inputs with one Write per input and the default
// buffer.
func formatWhole(tb testing.TB, o catOptions, inputs [][]byte) []byte {
	tb.Helper()
	return format(tb, o, inputs, nil, catBufferSize, false)
}

// catCase is a named sequence of input files.
type catCase struct {
	name   string
	inputs [][]byte
}

// files builds an input sequence from strings.
func files(s ...string) [][]byte {
	in := make([][]byte, len(s))
	for i, v := range s {
		in[i] = []byte(v)
	}
	return in
}

// allBytes returns every byte value once, in order.
func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// textSample returns n bytes of line-structured text with words, tabs,
// empty lines, runs of empty lines and the odd CR, deterministic for seed.
func textSample(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	words := []string{"the", "mapped", "page", "cat", "\t", "fault", "0x7f", "read", " ", "ÿ", "é"}
	var b bytes.Buffer
	for b.Len() < n {
		switch r.IntN(12) {
		case 0:
			b.WriteString("\n\n\n")
		case 1:
			b.WriteString("\r\n")
		default:
			for range r.IntN(14) {
				b.WriteString(words[r.IntN(len(words))])
				b.WriteByte(' ')
			}
			b.WriteByte('\n')
		}
	}
	return b.Bytes()[:n]
}

// catCases are the inputs every option combination is checked on.
func catCases() []catCase {
	long := bytes.Repeat([]byte("0123456789abcdef\t"), 70<<10/17)         // > 64 KiB, tabs
	longHigh := bytes.Repeat([]byte{0x80, 'a', 0xff, '\t', 0x01}, 14<<10) // expands 3x under -v
	all := allBytes()
	allTwice := append(append(append([]byte{}, all...), '\n'), all...)
	return []catCase{
		{"one empty file", files("")},
		{"two empty files", files("", "")},
		{"one byte", files("x")},
		{"one newline", files("\n")},
		{"one CR", files("\r")},
		{"one tab", files("\t")},
		{"no trailing newline", files("abc\ndef")},
		{"plain lines", files("alpha\nbeta\ngamma\n")},
		{"long line", [][]byte{append(append([]byte{}, long...), '\n')}},
		{"long line unterminated", [][]byte{long}},
		{"long line split", [][]byte{long[:40000], long[40000:], []byte("\n\n\nend")}},
		{"long nonprinting line", [][]byte{longHigh, []byte("\r\n"), longHigh}},
		{"every byte", [][]byte{all}},
		{"every byte twice", [][]byte{allTwice}},
		{"every byte per line", [][]byte{bytes.ReplaceAll(all, []byte{}, []byte{'\n'})}},
		{"CRLF text", files("one\r\ntwo\r\n\r\n\r\nthree\r")},
		{"CR runs", files("\r\r\n\r\r\r\na\rb\r\n\r")},
		{"CR then LF across files", files("a\r", "\nb\r\n")},
		{"CR then text across files", files("a\r", "x\n")},
		{"CR across empty file", files("a\r", "", "\nb")},
		{"CR at end of input", files("a\r")},
		{"CR files", files("\r", "\r", "\n", "\r")},
		{"CR before blank lines", files("x\r", "\n\n\n\ny\n")},
		{"blank runs", files("\n\n\n\na\n\n\nb\n\n\n\n\n")},
		{"leading blank run", files("\n\n\nx\n")},
		{"blank lines only", files("\n\n\n\n\n\n")},
		{"blank run across files", files("a\n\n", "\n\nb\n")},
		{"blank run across many files", files("a\n", "\n", "\n", "\n", "b")},
		{"line across files", files("a", "b\n")},
		{"line across three files", files("a", "", "b", "c\nd")},
		{"files ending in newline", files("a\n", "b\n", "c\n")},
		{"newline then text", files("a\n", "b")},
		{"empty then line", files("", "a\n")},
		{"space-only lines", files(" \n\t\n \n\n")},
		{"tabs", files("\t\ta\tb\t\n\t", "\t\n")},
		{"DEL and high bytes", files("\x7f\x80\x9f\xa0\xfe\xff\n")},
		{"text sample", [][]byte{textSample(20000, 1)}},
		{"text sample in pieces", [][]byte{textSample(3000, 2), textSample(777, 3), textSample(1, 4), textSample(4000, 5)}},
	}
}

// optionSets returns every subset of {b,E,n,s,T,v} plus the composites
// and the ignored -u, as option letter clusters.
func optionSets() []string {
	const letters = "bEnsTv"
	var sets []string
	for mask := range 1 << len(letters) {
		var s []byte
		for i := range len(letters) {
			if mask&(1<<i) != 0 {
				s = append(s, letters[i])
			}
		}
		sets = append(sets, string(s))
	}
	return append(sets, "A", "e", "t", "u", "Abs", "en", "tb", "nb", "un", "vET")
}

// TestCatFormatMatchesGNU compares the formatter with GNU cat for every
// option set on every case.
func TestCatFormatMatchesGNU(t *testing.T) {
	requireGNUCat(t)
	for _, c := range catCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			names := writeInputs(t, t.TempDir(), c.inputs)
			for _, flags := range optionSets() {
				want := gnuCat(t, flags, names)
				got := formatWhole(t, parseFlags(t, flags), c.inputs)
				if !bytes.Equal(got, want) {
					t.Errorf("-%s: output differs from GNU cat\n%s", flags, diffReport(got, want))
				}
			}
		})
	}
}

// diffReport describes where got and want first differ.
func diffReport(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(i-40, 0)
	return fmt.Sprintf("lengths got %d want %d, first difference at %d\n got: %q\nwant: %q",
		len(got), len(want), i, got[lo:min(i+40, len(got))], want[lo:min(i+40, len(want))])
}

// TestCatFormatChunking checks that the output does not depend on how the
// input is split into Writes, on interleaved Flushes, or on the size of the
// output buffer.
func TestCatFormatChunking(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	fixed := func(n int) chunker { return func(int) int { return n } }
	chunkers := []struct {
		name string
		next chunker
	}{
		{"1", fixed(1)},
		{"2", fixed(2)},
		{"3", fixed(3)},
		{"7", fixed(7)},
		{"random", func(left int) int { return 1 + r.IntN(min(left, 300)) }},
		{"random large", func(left int) int { return 1 + r.IntN(left) }},
	}
	bufSizes := []int{catBufferSize, minCatBufferSize, 5, 23}
	for _, c := range catCases() {
		size := 0
		for _, in := range c.inputs {
			size += len(in)
		}
		for j, flags := range optionSets() {
			o := parseFlags(t, flags)
			want := formatWhole(t, o, c.inputs)
			for k, ch := range chunkers {
				if size > 1<<14 && !strings.HasPrefix(ch.name, "random") {
					continue // tiny Writes on the long cases add time, not coverage
				}
				// Rotate through buffer sizes and flushing rather than
				// trying every product, which adds time but not coverage.
				idx := j*len(chunkers) + k
				bufSize, flushEvery := bufSizes[idx%len(bufSizes)], idx/len(bufSizes)%2 == 1
				if size > 1<<14 {
					bufSize = catBufferSize
				}
				got := format(t, o, c.inputs, ch.next, bufSize, flushEvery)
				if !bytes.Equal(got, want) {
					t.Fatalf("%s, -%s, chunks %s, buffer %d, flush %v: output differs from whole-input formatting\n%s",
						c.name, flags, ch.name, bufSize, flushEvery, diffReport(got, want))
				}
			}
		}
	}
}

// TestCatFormatKnownOutput pins the GNU behaviours that are easy to get
// wrong, so they are checked even where GNU cat is not installed.
func TestCatFormatKnownOutput(t *testing.T) {
	tests := []struct {
		flags  string
		inputs [][]byte
		want   string
	}{
		// Line state carries across files: "a" and "b\n" form one line.
		{"n", files("a", "b\n"), "     1\tab\n"},
		{"n", files("a\n", "b"), "     1\ta\n     2\tb"},
		{"n", files("", "\n", "", "x"), "     1\t\n     2\tx"},
		// -b numbers only non-empty lines and wins over -n in any order.
		{"b", files("\n\na\n \n"), "\n\n     1\ta\n     2\t \n"},
		{"nb", files("\na\n"), "\n     1\ta\n"},
		{"bn", files("\na\n"), "\n     1\ta\n"},
		// -s keeps one empty line of a run, also at the start and across
		// files, and squeezed lines do not consume numbers.
		{"s", files("\n\n\na\n"), "\na\n"},
		{"s", files("a\n\n", "\n\nb\n"), "a\n\nb\n"},
		{"sn", files("a\n\n\n\nb\n"), "     1\ta\n     2\t\n     3\tb\n"},
		{"sE", files("a\n\n\n"), "a$\n$\n"},
		// -E shows "\r\n" as "^M$" even without -v, also when the two
		// bytes are in different files; a lone "\r" passes through.
		{"E", files("a\r\n"), "a^M$\n"},
		{"E", files("a\r", "\nb"), "a^M$\nb"},
		{"E", files("a\r", "b\n"), "a\rb$\n"},
		{"E", files("a\r"), "a\r"},
		{"E", files("\r\r\n"), "\r^M$\n"},
		{"ET", files("\t\r\n"), "^I^M$\n"},
		{"", files("a\r\n"), "a\r\n"},
		{"v", files("a\r\n"), "a^M\n"},
		{"T", files("a\tb\r\n"), "a^Ib\r\n"},
		// -v notation.
		{"v", [][]byte{{0, 1, 9, 27, 31, 127, 128, 137, 159, 160, 193, 254, 255, '\n'}},
			"^@^A\t^[^_^?M-^@M-^IM-^_M- M-AM-~M-^?\n"},
		{"t", [][]byte{{9, 0x89}}, "^IM-^I"},
		{"A", files("x\ty\r\n"), "x^Iy^M$\n"},
		{"e", files("x\ty\r\n"), "x\ty^M$\n"},
		{"u", files("a\tb\r\n"), "a\tb\r\n"},
	}
	for _, tt := range tests {
		got := formatWhole(t, parseFlags(t, tt.flags), tt.inputs)
		if string(got) != tt.want {
			t.Errorf("-%s %q = %q, want %q", tt.flags, tt.inputs, got, tt.want)
		}
	}
}

// TestCatOptions checks the option letters and needsFormatting.
func TestCatOptions(t *testing.T) {
	for _, c := range "AbeEnstTuv" {
		var o catOptions
		if !o.setShort(byte(c)) {
			t.Errorf("setShort(%q) = false", c)
		}
		if got, want := o.needsFormatting(), c != 'u'; got != want {
			t.Errorf("-%c: needsFormatting = %v, want %v", c, got, want)
		}
	}
	for _, c := range "aBxV-h" {
		var o catOptions
		if o.setShort(byte(c)) {
			t.Errorf("setShort(%q) = true", c)
		}
	}
	want := catOptions{ShowNonprinting: true, ShowEnds: true, ShowTabs: true}
	if got := parseFlags(t, "A"); got != want {
		t.Errorf("-A = %+v, want %+v", got, want)
	}
	if (catOptions{}).needsFormatting() {
		t.Error("zero options need formatting")
	}
}

// TestCatFormatWideLineNumbers checks numbers beyond six digits, where the
// field widens instead of truncating.
func TestCatFormatWideLineNumbers(t *testing.T) {
	requireGNUCat(t)
	in := [][]byte{bytes.Repeat([]byte("x\n\n"), 500_010)}
	names := writeInputs(t, t.TempDir(), in)
	for _, flags := range []string{"n", "b", "sn"} {
		want := gnuCat(t, flags, names)
		got := formatWhole(t, parseFlags(t, flags), in)
		if !bytes.Equal(got, want) {
			t.Errorf("-%s: output differs from GNU cat\n%s", flags, diffReport(got, want))
		}
	}
}

// TestLineCounter checks the ASCII counter against strconv at the digit
// roll-overs.
func TestLineCounter(t *testing.T) {
	var l lineCounter
	l.reset()
	for n := 1; n <= 1_000_100; n++ {
		got := l.next()
		if n%1000 != 0 && n%1000 != 1 && n%1000 != 999 && n > 20 {
			continue
		}
		want := fmt.Sprintf("%6d\t", n)
		if string(got) != want {
			t.Fatalf("line %d: got %q, want %q", n, got, want)
		}
	}
}

// TestPlainRun checks the word-at-a-time scan against the table for every
// byte value at every position of a word.
func TestPlainRun(t *testing.T) {
	for _, plain := range []*[256]bool{&plainTabs, &plainNoTabs} {
		for c := range 256 {
			for pos := range 20 {
				seg := bytes.Repeat([]byte{'~'}, 20)
				seg[pos] = byte(c)
				want := 20
				if !plain[c] {
					want = pos
				}
				if got := plainRun(seg, plain); got != want {
					t.Fatalf("byte %#x at %d: plainRun = %d, want %d", c, pos, got, want)
				}
			}
		}
	}
}

// errWriter fails every Write after the first ok bytes.
type errWriter struct {
	ok  int
	err error
}

// Write accepts bytes until ok is used up, then fails.
func (w *errWriter) Write(p []byte) (int, error) {
	if len(p) <= w.ok {
		w.ok -= len(p)
		return len(p), nil
	}
	n := w.ok
	w.ok = 0
	return n, w.err
}

// shortWriter accepts at most one byte per Write and reports no error,
// violating io.Writer; the formatter must not lose data silently.
type shortWriter struct{}

// Write accepts one byte.
func (shortWriter) Write(p []byte) (int, error) { return min(len(p), 1), nil }

// TestCatFormatWriteErrors checks that errors from the underlying writer
// are returned and sticky.
func TestCatFormatWriteErrors(t *testing.T) {
	boom := errors.New("boom")
	f := newCatFormatterSize(&errWriter{ok: 10, err: boom}, catOptions{Number: true}, 16)
	in := []byte(strings.Repeat("line\n", 20))
	n, err := f.Write(in)
	if !errors.Is(err, boom) || n >= len(in) {
		t.Fatalf("Write = %d, %v; want short count and %v", n, err, boom)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, boom) {
		t.Errorf("Write after failure: %v", err)
	}
	if err := f.Flush(); !errors.Is(err, boom) {
		t.Errorf("Flush after failure: %v", err)
	}
	if err := f.Close(); !errors.Is(err, boom) {
		t.Errorf("Close after failure: %v", err)
	}

	f = newCatFormatter(shortWriter{}, catOptions{ShowEnds: true})
	if _, err := f.Write([]byte("ab\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("Close with short writer = %v, want %v", err, io.ErrShortWrite)
	}
}

// TestCatFormatBuffering checks that output waits for Flush and that
// buffered writes do not exceed the buffer size.
func TestCatFormatBuffering(t *testing.T) {
	var out bytes.Buffer
	f := newCatFormatter(&out, catOptions{Number: true})
	if _, err := f.Write([]byte("a\nb")); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Fatalf("output before Flush: %q", out.Bytes())
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "     1\ta\n     2\tb"; got != want {
		t.Fatalf("after Flush: %q, want %q", got, want)
	}

	// A held-back CR is not written by Flush, only by Close.
	out.Reset()
	f = newCatFormatter(&out, catOptions{ShowEnds: true})
	if _, err := f.Write([]byte("a\r")); err != nil {
		t.Fatal(err)
	}
	if err := f.Flush(); err != nil || out.String() != "a" {
		t.Fatalf("Flush with pending CR: %q, %v", out.Bytes(), err)
	}
	if err := f.Close(); err != nil || out.String() != "a\r" {
		t.Fatalf("Close with pending CR: %q, %v", out.Bytes(), err)
	}

	// Under -v every expansion goes through the buffer.
	var sizes maxWriter
	f = newCatFormatter(&sizes, catOptions{ShowNonprinting: true})
	if _, err := f.Write(bytes.Repeat([]byte{0x80}, 3*catBufferSize)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if sizes.max > catBufferSize || sizes.total != 4*3*catBufferSize {
		t.Errorf("largest write %d (limit %d), total %d", sizes.max, catBufferSize, sizes.total)
	}
}

// maxWriter records the largest Write and the total written.
type maxWriter struct{ max, total int }

// Write records len(p).
func (w *maxWriter) Write(p []byte) (int, error) {
	w.max = max(w.max, len(p))
	w.total += len(p)
	return len(p), nil
}

// TestCatFormatNoAllocs checks that Write and Flush do not allocate.
func TestCatFormatNoAllocs(t *testing.T) {
	in := textSample(200_000, 9)
	for _, flags := range []string{"n", "A", "bsE", "T", "E"} {
		f := newCatFormatter(io.Discard, parseFlags(t, flags))
		allocs := testing.AllocsPerRun(20, func() {
			f.Write(in)
			f.Flush()
		})
		if allocs != 0 {
			t.Errorf("-%s: %v allocations per Write+Flush", flags, allocs)
		}
	}
}

// fuzzFlags maps the fuzzer's option byte to an option letter cluster:
// the low six bits select from b, E, n, s, T, v and the top two add -A,
// -e or -t.
func fuzzFlags(opts uint8) string {
	const letters = "bEnsTv"
	var s []byte
	for i := range len(letters) {
		if opts&(1<<i) != 0 {
			s = append(s, letters[i])
		}
	}
	if c := opts >> 6; c != 0 {
		s = append(s, " Aet"[c])
	}
	return string(s)
}

// FuzzCatFormat compares the formatter with GNU cat on data split into two
// files at split, and checks that a different Write split gives the same
// output.
func FuzzCatFormat(f *testing.F) {
	for i, c := range catCases() {
		data := bytes.Join(c.inputs, nil)
		if len(data) > 4096 {
			continue
		}
		f.Add(data, uint8(i*37), uint16(len(c.inputs[0])))
	}
	f.Add([]byte("a\r\n\n\n\tb"), uint8(0xff), uint16(2))
	f.Fuzz(func(t *testing.T, data []byte, opts uint8, split uint16) {
		requireGNUCat(t)
		flags := fuzzFlags(opts)
		at := int(split) % (len(data) + 1)
		inputs := [][]byte{data[:at], data[at:]}
		o := parseFlags(t, flags)
		want := gnuCat(t, flags, writeInputs(t, t.TempDir(), inputs))
		got := formatWhole(t, o, inputs)
		if !bytes.Equal(got, want) {
			t.Fatalf("-%s %q: output differs from GNU cat\n%s", flags, inputs, diffReport(got, want))
		}
		step := 1 + int(split)%5
		chunked := format(t, o, [][]byte{data}, func(int) int { return step }, minCatBufferSize+int(split>>8)%7, false)
		if !bytes.Equal(chunked, want) {
			t.Fatalf("-%s %q in %d-byte Writes: output differs\n%s", flags, data, step, diffReport(chunked, want))
		}
	})
}

// BenchmarkCatFormat measures formatting 1 MiB of text beside a plain copy
// of the same bytes.
func BenchmarkCatFormat(b *testing.B) {
	in := textSample(1<<20, 42)
	b.Run("copy", func(b *testing.B) {
		dst := make([]byte, len(in))
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			copy(dst, in)
		}
	})
	for _, flags := range []string{"", "n", "b", "E", "T", "A", "ns"} {
		b.Run("-"+flags, func(b *testing.B) {
			f := newCatFormatter(io.Discard, parseFlags(b, flags))
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				f.Write(in)
				f.Flush()
			}
		})
	}
}
