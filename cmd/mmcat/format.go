package main

import (
	"bytes"
	"encoding/binary"
	"io"
)

// catOptions holds the formatting options of GNU cat. The composite flags
// -A, -e and -t and the ignored -u are folded in by setShort, so the fields
// are exactly the independent switches GNU cat tests in its inner loop.
type catOptions struct {
	// NumberNonblank is -b/--number-nonblank. It implies numbering and
	// overrides Number whichever order the flags came in, as in GNU cat.
	NumberNonblank bool
	// ShowEnds is -E/--show-ends.
	ShowEnds bool
	// Number is -n/--number.
	Number bool
	// SqueezeBlank is -s/--squeeze-blank.
	SqueezeBlank bool
	// ShowTabs is -T/--show-tabs.
	ShowTabs bool
	// ShowNonprinting is -v/--show-nonprinting.
	ShowNonprinting bool
}

// setShort applies the short option letter c the way GNU cat's getopt loop
// does and reports whether c is one of cat's option letters. Composites set
// several switches; 'u' is accepted and ignored because output is never
// held back beyond what the formatter's buffer needs anyway.
func (o *catOptions) setShort(c byte) bool {
	switch c {
	case 'A':
		o.ShowNonprinting, o.ShowEnds, o.ShowTabs = true, true, true
	case 'b':
		o.NumberNonblank = true
	case 'e':
		o.ShowNonprinting, o.ShowEnds = true, true
	case 'E':
		o.ShowEnds = true
	case 'n':
		o.Number = true
	case 's':
		o.SqueezeBlank = true
	case 't':
		o.ShowNonprinting, o.ShowTabs = true, true
	case 'T':
		o.ShowTabs = true
	case 'u':
	case 'v':
		o.ShowNonprinting = true
	default:
		return false
	}
	return true
}

// needsFormatting reports whether any option changes the output. When none
// does, cat is a plain copy and the caller can write input bytes through
// unchanged, which is also the point where GNU cat switches to its copy
// loop.
func (o catOptions) needsFormatting() bool {
	return o.NumberNonblank || o.ShowEnds || o.Number || o.SqueezeBlank ||
		o.ShowTabs || o.ShowNonprinting
}

// numbering reports whether lines get numbers at all; -b numbers too.
func (o catOptions) numbering() bool { return o.Number || o.NumberNonblank }

// catBufferSize is the size of the formatter's output buffer. Output is
// handed to the underlying writer in chunks of at most this size, apart from
// long unmodified spans, which bypass the buffer.
const catBufferSize = 64 << 10

// expansion is the -v rendering of one input byte: at most four bytes, as
// in "M-^A".
type expansion struct {
	n uint8
	b [4]byte
}

// Rendering tables for -v, indexed by input byte. They differ only in the
// tab entry, so that the inner loop needs no separate -T test. plainBytes
// marks the bytes -v leaves unchanged (again without the tab), so that runs
// of them can be copied as one span.
var (
	nonprintingTabs   [256]expansion // -v with -T: tab becomes ^I
	nonprintingNoTabs [256]expansion // -v alone: tab passes through
	plainTabs         [256]bool
	plainNoTabs       [256]bool
)

func init() {
	for c := range 256 {
		e := vNotation(byte(c))
		nonprintingTabs[c] = e
		nonprintingNoTabs[c] = e
		plainTabs[c] = e.n == 1 && e.b[0] == byte(c)
		plainNoTabs[c] = plainTabs[c]
	}
	nonprintingNoTabs['\t'] = expansion{n: 1, b: [4]byte{'\t'}}
	plainNoTabs['\t'] = true
}

// vNotation renders c the way GNU cat -v does: printable ASCII as is,
// controls as ^@..^_, DEL as ^?, and the high half as M- followed by the
// rendering of the low seven bits (so 0x80 is M-^@ and 0xFF is M-^?). The
// newline never reaches this function; the tab is handled by the tables.
// The notation is byte based and does not depend on the locale.
func vNotation(c byte) expansion {
	var e expansion
	if c >= 128 {
		e.b[0], e.b[1] = 'M', '-'
		e.n = 2
		c -= 128
	}
	switch {
	case c < 32:
		e.b[e.n], e.b[e.n+1] = '^', c+64
		e.n += 2
	case c == 127:
		e.b[e.n], e.b[e.n+1] = '^', '?'
		e.n += 2
	default:
		e.b[e.n] = c
		e.n++
	}
	return e
}

// lineCounter produces line number prefixes the way GNU cat does: an ASCII
// counter incremented in place, printed right-aligned in a six-column field
// followed by a tab, widening as needed. Keeping the digits as text avoids
// formatting an integer on every line.
type lineCounter struct {
	// buf mirrors GNU cat's line_buf: 17 digit positions, then "\t".
	buf [lineLastDigit + 2]byte
	// print is where the prefix starts; start is the first digit.
	print, start int
}

// Positions in lineCounter.buf, as in GNU cat.
const (
	lineLastDigit  = 16
	lineFirstPrint = lineLastDigit - 5 // six columns
)

// reset puts the counter before line 1.
func (l *lineCounter) reset() {
	for i := range l.buf {
		l.buf[i] = ' '
	}
	l.buf[lineLastDigit] = '0'
	l.buf[lineLastDigit+1] = '\t'
	l.print, l.start = lineFirstPrint, lineLastDigit
}

// next advances the counter and returns the prefix for the new line. The
// returned slice aliases the counter and is valid until the next call.
// Like GNU cat, a counter that runs out of digit positions wraps and marks
// the overflow with '>' in the first column; at one line per nanosecond
// that takes three years.
func (l *lineCounter) next() []byte {
	i := lineLastDigit
	for ; i >= l.start; i-- {
		if l.buf[i] < '9' {
			l.buf[i]++
			return l.buf[l.print:]
		}
		l.buf[i] = '0'
	}
	if l.start > 0 {
		l.start--
		l.buf[l.start] = '1'
	} else {
		l.buf[0] = '>'
	}
	if l.start < l.print {
		l.print--
	}
	return l.buf[l.print:]
}

// catFormatter applies GNU cat's formatting options to a byte stream and
// writes the result to an underlying writer.
//
// One formatter serves all input files of one invocation: GNU cat keeps its
// line counter, its "at start of line / count of consecutive newlines"
// state and a held-back carriage return in globals across files, so its
// formatted output is exactly the formatting of the concatenated input.
// For example "cat -n" of a file "a" without a newline followed by a file
// "b\n" prints "     1\tab\n", and -s squeezes a run of empty lines that
// spans two files.
//
// Input may be split into Write calls at arbitrary points; the output does
// not depend on the split. Output is buffered; call Flush to push it out
// (for instance before blocking on more input) and Close at the end of all
// input. A formatter does not allocate after construction.
type catFormatter struct {
	opts catOptions
	w    io.Writer
	buf  []byte // pending output; its capacity is fixed at construction
	err  error  // first error from w; every later call returns it

	// newlines follows GNU cat's variable of the same name: -1 inside a
	// line, 0 at the start of a line after a non-empty line (or at the
	// very start), 1 after one empty line, 2 after two or more. Empty lines
	// are numbered by -n when it becomes positive and dropped by -s when
	// it reaches 2.
	newlines int

	// pendingCR is set when, with -E but without -v, the input so far
	// ends in a '\r' that was held back because the byte after it is not
	// known yet: GNU cat shows "\r\n" as "^M$\n" under -E but passes a
	// lone '\r' through unchanged.
	pendingCR bool

	// Derived from opts once, so the hot path tests plain booleans.
	number        bool // -n or -b
	numberBlank   bool // number empty lines too (-n without -b)
	plainSegments bool // line content is copied verbatim
	crCheck       bool // -E without -v: watch for "\r\n"

	// vTable and vPlain are the -v tables, nil without -v.
	vTable *[256]expansion
	vPlain *[256]bool

	lines lineCounter
}

// newCatFormatter returns a formatter for opts writing to w with a 64 KiB
// output buffer.
func newCatFormatter(w io.Writer, opts catOptions) *catFormatter {
	return newCatFormatterSize(w, opts, catBufferSize)
}

// minCatBufferSize is the smallest output buffer: the -v loop needs room
// for one complete four-byte expansion.
const minCatBufferSize = 4

// newCatFormatterSize is newCatFormatter with an output buffer of size
// bytes (at least minCatBufferSize). Tests use tiny buffers to hit every
// buffer boundary with small inputs.
func newCatFormatterSize(w io.Writer, opts catOptions, size int) *catFormatter {
	f := &catFormatter{
		opts:    opts,
		w:       w,
		buf:     make([]byte, 0, max(size, minCatBufferSize)),
		number:  opts.numbering(),
		crCheck: opts.ShowEnds && !opts.ShowNonprinting,
	}
	// GNU cat: -b sets number_nonblank regardless of a -n before or after.
	f.numberBlank = opts.Number && !opts.NumberNonblank
	f.plainSegments = !opts.ShowNonprinting && !opts.ShowTabs && !f.crCheck
	if opts.ShowNonprinting {
		if opts.ShowTabs {
			f.vTable, f.vPlain = &nonprintingTabs, &plainTabs
		} else {
			f.vTable, f.vPlain = &nonprintingNoTabs, &plainNoTabs
		}
	}
	f.lines.reset()
	return f
}

// Write formats p and buffers the result, writing to the underlying writer
// whenever the buffer fills. It returns len(p) unless writing failed; then
// it returns the number of bytes of p consumed before the failure and the
// error, and the formatter is unusable from then on.
func (f *catFormatter) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	i := 0
	for i < len(p) && f.err == nil {
		if p[i] == '\n' {
			f.newline()
			i++
			continue
		}
		// Start of content: the byte held back at the end of the previous
		// Write turned out not to precede a newline.
		if f.pendingCR {
			f.pendingCR = false
			f.putByte('\r')
		}
		if f.newlines >= 0 && f.number {
			f.put(f.lines.next())
		}
		f.newlines = -1
		end := bytes.IndexByte(p[i:], '\n')
		atNewline := end >= 0
		if atNewline {
			end += i
		} else {
			end = len(p)
		}
		f.content(p[i:end], atNewline)
		i = end
	}
	if f.err != nil {
		return i, f.err
	}
	return len(p), nil
}

// newline handles one input '\n' following GNU cat's newline branch.
func (f *catFormatter) newline() {
	f.newlines++
	if f.newlines > 0 {
		// An empty line. GNU caps the count at 2 so it cannot overflow.
		if f.newlines >= 2 {
			f.newlines = 2
			if f.opts.SqueezeBlank {
				return
			}
		}
		if f.numberBlank {
			f.put(f.lines.next())
		}
	}
	if f.opts.ShowEnds {
		if f.pendingCR {
			f.pendingCR = false
			f.put(caretM)
		}
		f.put(dollarNewline)
	} else {
		f.putByte('\n')
	}
}

// Fixed output fragments.
var (
	caretM        = []byte("^M")
	caretI        = []byte("^I")
	dollarNewline = []byte("$\n")
)

// content renders a run of line content (no '\n'). atNewline says whether
// the input byte after seg is known to be a newline; when it is false the
// run ends at the end of the current Write.
func (f *catFormatter) content(seg []byte, atNewline bool) {
	switch {
	case f.plainSegments:
		f.put(seg)
	case f.vTable != nil:
		f.nonprinting(seg)
	default:
		// Without -v only -T and the -E "\r\n" rule change content.
		if f.crCheck && len(seg) > 0 && seg[len(seg)-1] == '\r' {
			seg = seg[:len(seg)-1]
			f.tabs(seg)
			if atNewline {
				f.put(caretM)
			} else {
				// GNU cat also defers a '\r' that ends its read buffer
				// and emits it (or ^M) once the next byte is known,
				// even if that byte is in the next file.
				f.pendingCR = true
			}
			return
		}
		f.tabs(seg)
	}
}

// tabs copies seg, showing tabs as ^I when -T is set.
func (f *catFormatter) tabs(seg []byte) {
	if !f.opts.ShowTabs {
		f.put(seg)
		return
	}
	for {
		j := bytes.IndexByte(seg, '\t')
		if j < 0 {
			f.put(seg)
			return
		}
		f.put(seg[:j])
		f.put(caretI)
		seg = seg[j+1:]
	}
}

// nonprinting renders seg in -v notation. Runs of bytes that -v leaves
// alone are copied as spans; the rest expand through the table. With -v a
// '\r' is always ^M, so the -E "\r\n" rule needs no special case here.
func (f *catFormatter) nonprinting(seg []byte) {
	plain, table := f.vPlain, f.vTable
	for len(seg) > 0 {
		if cap(f.buf)-len(f.buf) < 4 {
			if f.flush(); f.err != nil {
				return
			}
		}
		room := cap(f.buf) - len(f.buf)
		if k := plainRun(seg[:min(len(seg), room)], plain); k > 0 {
			f.buf = append(f.buf, seg[:k]...)
			seg = seg[k:]
			continue
		}
		// Expand bytes while each is sure to fit, storing all four bytes
		// of the table entry and keeping as many as it has.
		for len(seg) > 0 && !plain[seg[0]] {
			l := len(f.buf)
			if cap(f.buf)-l < 4 {
				break
			}
			e := &table[seg[0]]
			*(*[4]byte)(f.buf[l : l+4]) = e.b
			f.buf = f.buf[:l+int(e.n)]
			seg = seg[1:]
		}
	}
}

// Word-at-a-time constants for plainRun.
const (
	bytesOf01 = 0x0101010101010101
	bytesOf20 = 0x2020202020202020
	bytesOf80 = 0x8080808080808080
)

// plainRun returns the length of the prefix of seg made of bytes that
// plain marks as unchanged by -v. It tests eight bytes at a time for the
// printable ASCII range 0x20..0x7E, which is what most text consists of,
// and falls back to the table for the rest (such as a tab that -v without
// -T keeps).
func plainRun(seg []byte, plain *[256]bool) int {
	k := 0
	for k+8 <= len(seg) {
		x := binary.LittleEndian.Uint64(seg[k:])
		// A set top bit in x flags a byte >= 0x80; in x+0x01.. a byte
		// equal to 0x7F (the OR makes carries out of high bytes moot);
		// the last test is the classic "has a byte less than 0x20",
		// exact for deciding whether any byte is.
		if (x|(x+bytesOf01))&bytesOf80 != 0 || (x-bytesOf20)&^x&bytesOf80 != 0 {
			break
		}
		k += 8
	}
	for k < len(seg) && plain[seg[k]] {
		k++
	}
	return k
}

// putByte appends one byte to the output buffer.
func (f *catFormatter) putByte(c byte) {
	if len(f.buf) == cap(f.buf) {
		if f.flush(); f.err != nil {
			return
		}
	}
	f.buf = append(f.buf, c)
}

// put appends b to the output buffer. It is small enough to inline, since
// it runs several times per line; after an error the bytes land in the
// buffer and are dropped, which is harmless because nothing is written
// again.
func (f *catFormatter) put(b []byte) {
	if len(b) <= cap(f.buf)-len(f.buf) {
		f.buf = append(f.buf, b...)
		return
	}
	f.putSlow(b)
}

// putSlow is put for spans that do not fit. A span at least as large as
// the buffer goes straight to the underlying writer after the buffered
// bytes, so long unmodified lines are not copied twice.
func (f *catFormatter) putSlow(b []byte) {
	if f.err != nil {
		return
	}
	for len(b) > 0 {
		if len(f.buf) == 0 && len(b) >= cap(f.buf) {
			f.writeOut(b)
			return
		}
		n := copy(f.buf[len(f.buf):cap(f.buf)], b)
		f.buf = f.buf[:len(f.buf)+n]
		b = b[n:]
		if len(b) > 0 {
			if f.flush(); f.err != nil {
				return
			}
		}
	}
}

// flush writes the buffered output, recording any error.
func (f *catFormatter) flush() {
	if f.err != nil || len(f.buf) == 0 {
		return
	}
	f.writeOut(f.buf)
	f.buf = f.buf[:0]
}

// writeOut writes b to the underlying writer, recording any error. A short
// write without an error is reported as io.ErrShortWrite, as io.Writer
// requires of writers that return fewer bytes.
func (f *catFormatter) writeOut(b []byte) {
	n, err := f.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		f.err = err
	}
}

// Flush writes all buffered output to the underlying writer. A '\r' held
// back under -E stays held, because the next byte written may still be the
// '\n' that turns it into ^M.
func (f *catFormatter) Flush() error {
	f.flush()
	return f.err
}

// Close ends the input: it emits a held-back '\r' (GNU cat writes it after
// the last file) and flushes. It does not close the underlying writer.
func (f *catFormatter) Close() error {
	if f.pendingCR {
		f.pendingCR = false
		f.putByte('\r')
	}
	return f.Flush()
}
