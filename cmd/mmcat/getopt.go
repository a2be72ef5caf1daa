package main

import (
	"os"
	"strings"
	"unicode/utf8"
)

// getopt parses args against the options registered in fl the way glibc's
// getopt_long(3) parses them for GNU cat, so that a command line means the
// same to mmcat as to cat and a mistake in it gets cat's message word for
// word:
//
//   - options and operands in any order (unless POSIXLY_CORRECT is set,
//     which ends the options at the first operand), "--" ends the options,
//     "-" is an operand;
//   - short options combine ("-nE"), and one that takes an argument takes
//     the rest of its word or the next word ("-oDEST", "-o DEST");
//   - a long option may be abbreviated to any unique prefix ("--num" is
//     ambiguous, "--number-" is --number-nonblank), takes its argument after
//     "=" or as the next word, and a switch refuses an argument;
//   - --help and --version act at once, as in cat, so what follows them
//     is not looked at.
//
// Options are bytes, as in getopt: a non-ASCII byte is an invalid option
// like any other. Each option found is set in fl (a switch to true);
// an ambiguous prefix lists the candidates in the order fl declares them,
// which for cat's options is cat's order. getopt returns the
// operands in order, errHelp or errVersion, or a *usageError.
//
// Switches take no argument; every other option requires one.
func getopt(fl optionSet, args []string) ([]string, error) {
	posix := os.Getenv("POSIXLY_CORRECT") != ""
	var operands []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return append(operands, args[i+1:]...), nil
		case strings.HasPrefix(arg, "--"):
			f, value, err := longOption(fl, arg)
			if err != nil {
				return nil, err
			}
			if f.str != nil && value == nil {
				if i+1 == len(args) {
					return nil, usagef("option '--%s' requires an argument", f.long)
				}
				i++
				value = &args[i]
			}
			if err := setOption(f, value); err != nil {
				return nil, err
			}
		case len(arg) > 1 && arg[0] == '-':
			for j := 1; j < len(arg); j++ {
				c := arg[j]
				var f *option
				if c < utf8.RuneSelf && c != '=' {
					f = fl.byShort(c)
				}
				if f == nil {
					return nil, usagef("invalid option -- '%s'", []byte{c})
				}
				var value *string
				if f.str != nil {
					// The rest of the word, or the next one.
					switch {
					case j+1 < len(arg):
						rest := arg[j+1:]
						value = &rest
					case i+1 < len(args):
						i++
						value = &args[i]
					default:
						return nil, usagef("option requires an argument -- '%s'", []byte{c})
					}
					j = len(arg)
				}
				if err := setOption(f, value); err != nil {
					return nil, err
				}
			}
		case posix:
			return append(operands, args[i:]...), nil
		default:
			operands = append(operands, arg)
		}
	}
	return operands, nil
}

// longOption finds the flag that the word arg ("--name" or "--name=value")
// names, exactly or by a unique prefix, and returns it with the value after
// "=", if any.
func longOption(fl optionSet, arg string) (*option, *string, error) {
	name, v, hasValue := strings.Cut(arg[2:], "=")
	var value *string
	if hasValue {
		value = &v
	}
	f := fl.byLong(name)
	if f == nil {
		var matches []*option
		for _, g := range fl {
			if g.long != "" && strings.HasPrefix(g.long, name) {
				matches = append(matches, g)
			}
		}
		switch len(matches) {
		case 0:
			return nil, nil, usagef("unrecognized option '%s'", arg)
		case 1:
			f = matches[0]
		default:
			var b strings.Builder
			for _, g := range matches {
				b.WriteString(" '--" + g.long + "'")
			}
			return nil, nil, usagef("option '%s' is ambiguous; possibilities:%s", arg, b.String())
		}
	}
	if f.str == nil && value != nil {
		return nil, nil, usagef("option '--%s' doesn't allow an argument", f.long)
	}
	return f, value, nil
}

// setOption records an option found on the command line: a switch when
// value is nil, otherwise an option with its argument.
func setOption(f *option, value *string) error {
	switch f.long {
	case "help":
		return errHelp
	case "version":
		return errVersion
	}
	f.given = true
	if f.str != nil {
		*f.str = *value
	} else {
		*f.on = true
	}
	return nil
}

// option is one option of the command line: a long name ("" for a letter
// that has none), a letter (0 for none), and where its value goes.
type option struct {
	long  string
	short byte
	str   *string // the argument of an option that takes one, else nil
	on    *bool   // set by a switch
	given bool    // found on the command line
}

// optionSet is the options in the order they are declared, which is the
// order an ambiguous abbreviation lists its candidates in.
type optionSet []*option

// flag declares a switch.
func (s *optionSet) flag(long string, short byte, on *bool) {
	*s = append(*s, &option{long: long, short: short, on: on})
}

// value declares an option that takes an argument.
func (s *optionSet) value(long string, short byte, str *string) {
	*s = append(*s, &option{long: long, short: short, str: str})
}

// byLong returns the option of that exact long name, or nil.
func (s optionSet) byLong(name string) *option {
	for _, o := range s {
		if o.long != "" && o.long == name {
			return o
		}
	}
	return nil
}

// byShort returns the option of that letter, or nil.
func (s optionSet) byShort(c byte) *option {
	for _, o := range s {
		if o.short != 0 && o.short == c {
			return o
		}
	}
	return nil
}

// seen reports whether the option of that long name was on the command
// line.
func (s optionSet) seen(long string) bool {
	o := s.byLong(long)
	return o != nil && o.given
}
