// Command mmcat concatenates files to standard output like GNU cat, reading
// them through memory maps.
package main

import (
	"fmt"
	"io"
	"os"
)

// main is a stand-in until the command proper is written: it passes
// standard input through the formatter to standard output with no options
// set, so the package builds and the formatter runs end to end.
func main() {
	f := newCatFormatter(os.Stdout, catOptions{})
	_, err := io.Copy(f, os.Stdin)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mmcat:", err)
		os.Exit(1)
	}
}
