package main

import (
	"os"
	"strings"
	"unicode/utf8"

	"github.com/spf13/pflag"
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
// like any other. Each option found is set in fl (a switch to "true");
// an ambiguous prefix lists the candidates in the order fl declares them,
// which for cat's options is cat's order. getopt returns the
// operands in order, errHelp or errVersion, or a *usageError.
//
// Switches are the flags with a NoOptDefVal (pflag's booleans); every other
// flag requires an argument. Long names that start with NUL are the
// placeholders of letters without a long form: no argument can spell them.
func getopt(fl *pflag.FlagSet, args []string) ([]string, error) {
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
			if f.NoOptDefVal == "" && value == nil {
				if i+1 == len(args) {
					return nil, usagef("option '--%s' requires an argument", f.Name)
				}
				i++
				value = &args[i]
			}
			if err := setOption(fl, f, value); err != nil {
				return nil, err
			}
		case len(arg) > 1 && arg[0] == '-':
			for j := 1; j < len(arg); j++ {
				c := arg[j]
				var f *pflag.Flag
				if c < utf8.RuneSelf && c != '=' {
					f = fl.ShorthandLookup(string(c))
				}
				if f == nil {
					return nil, usagef("invalid option -- '%s'", []byte{c})
				}
				var value *string
				if f.NoOptDefVal == "" {
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
				if err := setOption(fl, f, value); err != nil {
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
func longOption(fl *pflag.FlagSet, arg string) (*pflag.Flag, *string, error) {
	name, v, hasValue := strings.Cut(arg[2:], "=")
	var value *string
	if hasValue {
		value = &v
	}
	f := fl.Lookup(name)
	if f == nil || strings.HasPrefix(name, "\x00") {
		var matches []*pflag.Flag
		fl.VisitAll(func(g *pflag.Flag) {
			if strings.HasPrefix(g.Name, name) && !strings.HasPrefix(g.Name, "\x00") {
				matches = append(matches, g)
			}
		})
		switch len(matches) {
		case 0:
			return nil, nil, usagef("unrecognized option '%s'", arg)
		case 1:
			f = matches[0]
		default:
			var b strings.Builder
			for _, g := range matches {
				b.WriteString(" '--" + g.Name + "'")
			}
			return nil, nil, usagef("option '%s' is ambiguous; possibilities:%s", arg, b.String())
		}
	}
	if f.NoOptDefVal != "" && value != nil {
		return nil, nil, usagef("option '--%s' doesn't allow an argument", f.Name)
	}
	return f, value, nil
}

// setOption records an option found on the command line: a switch when
// value is nil, otherwise an option with its argument.
func setOption(fl *pflag.FlagSet, f *pflag.Flag, value *string) error {
	switch f.Name {
	case "help":
		return errHelp
	case "version":
		return errVersion
	}
	v := f.NoOptDefVal
	if value != nil {
		v = *value
	}
	if err := fl.Set(f.Name, v); err != nil {
		return usagef("invalid argument '%s' for '--%s': %v", v, f.Name, err)
	}
	return nil
}
