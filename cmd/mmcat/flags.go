package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
)

// progressMode says when to draw a progress bar.
type progressMode int

const (
	progressAuto progressMode = iota // with -o, when stderr is a terminal
	progressOn                       // --progress
	progressOff                      // --no-progress
)

// config is the parsed command line.
type config struct {
	opts     catOptions
	rng      byteRange
	output   string      // -o DEST, "" for standard output
	mode     fs.FileMode // --mode
	modeSet  bool
	force    bool
	sync     bool
	inPlace  bool // --in-place: write a FILE DEST as cat > DEST does
	progress progressMode
	sources  []string
}

// Results of parseArgs that are not errors in the usual sense.
var (
	errHelp    = errors.New("help requested")
	errVersion = errors.New("version requested")
)

// usageError is a mistake on the command line: exit status 1, as for GNU
// cat, with a hint to try --help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// catFlags maps each formatting option letter to its long name ("" for the
// letters GNU cat gives none), in the order of cat's long options, which
// is the order getopt lists them in when an abbreviation is ambiguous.
var catFlags = []struct {
	letter byte
	long   string
}{
	{'b', "number-nonblank"},
	{'n', "number"},
	{'s', "squeeze-blank"},
	{'v', "show-nonprinting"},
	{'E', "show-ends"},
	{'T', "show-tabs"},
	{'A', "show-all"},
	{'e', ""},
	{'t', ""},
	{'u', ""},
}

// parseArgs parses the command line as GNU cat's getopt_long does (see
// getopt). It returns errHelp or errVersion when those were asked for, and
// a *usageError for anything malformed.
func parseArgs(args []string) (*config, error) {
	var fl optionSet
	set := make([]bool, len(catFlags))
	for i, f := range catFlags {
		fl.flag(f.long, f.letter, &set[i])
	}
	var (
		c                    config
		offset, length, mode string
		progress, noProgress bool
	)
	fl.value("output", 'o', &c.output)
	fl.flag("force", 0, &c.force)
	fl.flag("sync", 0, &c.sync)
	fl.flag("in-place", 0, &c.inPlace)
	fl.value("mode", 0, &mode)
	fl.value("offset", 0, &offset)
	fl.value("length", 0, &length)
	fl.flag("progress", 0, &progress)
	fl.flag("no-progress", 0, &noProgress)
	fl.flag("help", 'h', nil) // help and version act at once (setOption)
	fl.flag("version", 0, nil)

	operands, err := getopt(fl, args)
	if err != nil {
		return nil, err
	}
	for i, f := range catFlags {
		if set[i] {
			c.opts.setShort(f.letter)
		}
	}
	c.rng.length = -1
	if fl.seen("offset") {
		n, err := parseSize(offset)
		if err != nil {
			return nil, usagef("invalid --offset %q: %v", offset, err)
		}
		c.rng.offset = n
	}
	if fl.seen("length") {
		n, err := parseSize(length)
		if err != nil {
			return nil, usagef("invalid --length %q: %v", length, err)
		}
		c.rng.length = n
	}
	if fl.seen("mode") {
		m, err := strconv.ParseUint(mode, 8, 32)
		if err != nil || m > 0o777 {
			return nil, usagef("invalid --mode %q: want octal permissions such as 0644", mode)
		}
		c.mode, c.modeSet = fs.FileMode(m), true
	}
	if fl.seen("output") {
		if c.output == "" {
			return nil, usagef("empty --output")
		}
		if strings.HasPrefix(c.output, "sysv-id:") {
			return nil, usagef("--output %s: a destination is created by key; use sysv:KEY", c.output)
		}
	}
	switch {
	case noProgress:
		c.progress = progressOff
	case progress:
		c.progress = progressOn
	}
	c.sources = operands
	if len(c.sources) == 0 {
		c.sources = []string{"-"}
	}
	return &c, nil
}

// parseSize parses a size in bytes: decimal digits, optionally followed by
// K, M or G (either case) for 1024, 1024² or 1024³. Negative numbers,
// other suffixes and values above math.MaxInt64 are errors.
func parseSize(s string) (int64, error) {
	digits, shift := s, 0
	if s != "" {
		switch s[len(s)-1] {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		}
		if shift != 0 {
			digits = s[:len(s)-1]
		}
	}
	if digits == "" {
		return 0, errors.New("want a number of bytes, optionally with K, M or G")
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, errors.New("want a number of bytes, optionally with K, M or G")
		}
	}
	n, err := strconv.ParseUint(digits, 10, 63)
	if err != nil || n > math.MaxInt64>>shift {
		return 0, errors.New("too large")
	}
	return int64(n) << shift, nil
}

// byteRange is the --offset/--length range applied to every source.
type byteRange struct {
	offset int64
	length int64 // -1: to the end
}

// errOffset is returned by clip for an offset past the end of a source.
type errOffset struct{ offset, size int64 }

func (e *errOffset) Error() string {
	return fmt.Sprintf("offset %d is past the end (size %d)", e.offset, e.size)
}

// clip returns the part of a source of size bytes that the range selects:
// from offset to offset+length, or to the end when that comes first. An
// offset past the end is an error; an offset equal to size selects nothing.
func (r byteRange) clip(size int64) (off, n int64, err error) {
	if r.offset > size {
		return 0, 0, &errOffset{offset: r.offset, size: size}
	}
	n = size - r.offset
	if r.length >= 0 && r.length < n {
		n = r.length
	}
	return r.offset, n, nil
}

const usageText = `Usage: mmcat [OPTION]... [SOURCE]...
Concatenate SOURCEs to standard output, or to DEST with -o, reading files
through memory maps. With no SOURCE, or when SOURCE is -, read standard input.

Sources:
  FILE         a file, mapped read-only (pipes, devices, the files of /proc
               and /sys, and any file that cannot be mapped are read)
  -            standard input
  shm:NAME     a POSIX shared-memory segment (Python's SharedMemory(name=NAME))
  sysv:KEY     a System V segment by key, decimal or 0x hex (see ipcs -m)
  sysv-id:ID   a System V segment by id (see ipcs -m)

Formatting, as GNU cat:
  -A, --show-all           equivalent to -vET
  -b, --number-nonblank    number nonempty output lines, overrides -n
  -e                       equivalent to -vE
  -E, --show-ends          display $ at end of each line
  -n, --number             number all output lines
  -s, --squeeze-blank      suppress repeated empty output lines
  -t                       equivalent to -vT
  -T, --show-tabs          display TAB characters as ^I
  -u                       (ignored)
  -v, --show-nonprinting   use ^ and M- notation, except for LFD and TAB

Output and ranges:
  -o, --output=DEST    write to DEST: a FILE (a regular file is replaced
                       atomically, keeping its mode, owner, group, ACLs and
                       extended attributes; anything else, such as a FIFO,
                       a device or /dev/stdout, is written as cat > DEST
                       writes it), shm:NAME or sysv:KEY (created for the
                       output)
      --in-place       write a FILE DEST in place, as cat > DEST does, where
                       a replace cannot keep what cat keeps (hard links, a
                       bind mount, another user's file, a directory you
                       cannot write)
      --force          replace an existing shm:NAME or sysv:KEY DEST
      --sync           make a FILE DEST durable (fsync) before it replaces
                       the old one; without it the replace is atomic for
                       readers and for a crash of mmcat, as fast as cat
      --mode=MODE      octal permissions of what -o writes (default 0600 for
                       shared memory, 0666 less the umask for a new file;
                       a replaced file keeps its own)
      --offset=N       copy each SOURCE from byte N (an error past its end)
      --length=N       copy at most N bytes of each SOURCE
                       N is in bytes, or with a suffix K, M, G (1024, 1024^2,
                       1024^3)
      --progress       show a progress bar on standard error
      --no-progress    never show one (by default it is shown with -o when
                       standard error is a terminal)
  -h, --help           display this help and exit
      --version        output version information and exit

Examples:
  mmcat f - g                  Output f's contents, then standard input, then g's.
  mmcat -n notes.txt           Number the lines of notes.txt.
  mmcat -o shm:demo data.bin   Copy data.bin into a new shared-memory segment.
  mmcat shm:demo | sha256sum   Read it back.
  mmcat -o sysv:0x1234 --mode 0644 a b
                               Concatenate a and b into a System V segment.
  mmcat --offset 1M --length 4K disk.img | xxd
                               Show 4 KiB from offset 1 MiB.
  mmcat -o out.txt out.txt extra.txt
                               Append extra.txt to out.txt, atomically.

Exit status: 0 when every SOURCE was copied, 1 when one failed (the others are
still copied) or for a usage error.
`

// usage is the --help text for the command invoked as name: like GNU
// cat's, its synopsis and examples use the name it was invoked by.
func usage(name string) string {
	lines := strings.SplitAfter(usageText, "\n")
	for i, l := range lines {
		for _, lead := range []string{"Usage: ", "  "} {
			if rest, ok := strings.CutPrefix(l, lead+"mmcat "); ok {
				lines[i] = lead + name + " " + rest
			}
		}
	}
	return strings.Join(lines, "")
}
