package sysv

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// Key is a System V IPC key (the C type key_t): the number by which
// unrelated processes find the same segment. Choose one, derive one from a
// path with [Ftok], or use [CreatePrivate] for a segment without a key.
//
// A key is 32 bits, which tools write in different ways: ipcs -m prints
// 0x9faf9a1b, /proc/sysvipc/shm and C's %d print the same key as
// -1615881701, a shell's $((0x9faf9a1b)) gives 2679085595. [Key.String]
// prints the first form and [ParseKey] reads them all.
type Key int32

// Private is IPC_PRIVATE, the key that never names an existing segment: it
// is what [CreatePrivate] uses, and what the kernel reports as the key of a
// segment marked for removal. [Create], [Open] and [OpenOrCreate] refuse it.
const Private Key = 0

// String formats k as ipcs(1) prints it: 0x followed by eight hex digits.
// [ParseKey] reads it back.
func (k Key) String() string { return fmt.Sprintf("0x%08x", uint32(k)) }

// path names the key in errors.
func (k Key) path() string { return "key " + k.String() }

// ParseKey reads a key as util-linux's ipcrm -M does, which hands it to C's
// strtoul(s, &end, 0) and wants the whole string used:
//
//   - 0x or 0X and hex digits, as ipcs -m prints it: "0x9faf9a1b";
//   - decimal in the unsigned 32-bit range: "2679085595";
//   - negative decimal down to -2147483648, as key_t, /proc/sysvipc/shm and
//     C's %d print it: "-1615881701";
//   - a leading 0 and octal digits: "0777" is 511, and "08" is an error.
//
// Each may have a sign ("+12", "-0x1") and be preceded by white space
// (space, \t, \n, \v, \f, \r, as in the C locale); nothing may follow the
// digits. The three examples are the same key.
//
// Unlike ipcrm, which keeps the low 32 bits of whatever strtoul returns
// (it reads 4294967297 as key 1 and -4294967295 as key 1 too), ParseKey
// refuses a number that is not a 32-bit key, with an error wrapping
// [strconv.ErrRange]: above 4294967295 (0xffffffff) or below -2147483648
// (-0x80000000). Any other malformed key is an error wrapping
// [strconv.ErrSyntax]. Both quote s and say what is wrong where.
func ParseKey(s string) (Key, error) {
	fail := func(sentinel error, format string, args ...any) (Key, error) {
		return 0, errs.New(fmt.Sprintf("sysv: parse key %q: ", s)+fmt.Sprintf(format, args...), sentinel)
	}
	i := len(s) - len(strings.TrimLeft(s, cSpace))
	if i == len(s) {
		return fail(strconv.ErrSyntax, "want a number: 0x and hex digits, decimal, or 0 and octal digits")
	}
	neg := false
	if c := s[i]; c == '+' || c == '-' {
		neg = c == '-'
		i++
		if i == len(s) {
			return fail(strconv.ErrSyntax, "want digits after the sign")
		}
	}
	base, kind := uint64(10), "a decimal digit"
	switch {
	case strings.HasPrefix(s[i:], "0x") || strings.HasPrefix(s[i:], "0X"):
		base, kind = 16, "a hex digit"
		i += 2
		if i == len(s) {
			return fail(strconv.ErrSyntax, "want hex digits after %s", s[i-2:])
		}
	case s[i] == '0' && i+1 < len(s):
		// As in C, a leading 0 makes the rest octal.
		base, kind = 8, "an octal digit"
		i++
	}
	var v uint64
	for j := i; j < len(s); j++ {
		d := digitValue(s[j])
		if d >= base {
			hint := ""
			switch {
			case base == 8 && d < 10:
				hint = " (a leading 0 means octal, as for ipcrm -M)"
			case strings.IndexByte(cSpace, s[j]) >= 0:
				hint = " (white space may only come before the number)"
			}
			return fail(strconv.ErrSyntax, "%s at offset %d is not %s%s", describeByte(s, j), j, kind, hint)
		}
		// Past 1<<32 the value only needs to stay too large, not exact.
		v = min(v*base+d, 1<<33)
	}
	if neg && v > 1<<31 || !neg && v >= 1<<32 {
		return fail(strconv.ErrRange, "out of range: a key is 32 bits, from 0 to 4294967295 (0xffffffff), or negative down to -2147483648 (-0x80000000)")
	}
	if neg {
		return Key(int32(-int64(v))), nil
	}
	return Key(int32(uint32(v))), nil
}

// cSpace is what strtoul skips before a number: isspace in the C locale.
const cSpace = " \t\n\v\f\r"

// digitValue returns the value of c as a digit in any base up to 16, or
// 16 when it is none.
func digitValue(c byte) uint64 {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0')
	case 'a' <= c && c <= 'f':
		return uint64(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return uint64(c - 'A' + 10)
	}
	return 16
}

// describeByte names the character at s[i] for an error: quoted when it is
// a whole character, as a hex byte when it is not valid UTF-8.
func describeByte(s string, i int) string {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return fmt.Sprintf("byte 0x%02x", s[i])
	}
	return strconv.QuoteRune(r)
}
