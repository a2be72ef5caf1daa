//go:build !unix

package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
)

var errNoTruncate = fmt.Errorf("no process can truncate a mapped file on %s; the demo runs on Unix: %w", runtime.GOOS, errors.ErrUnsupported)

func run(io.Writer) error { return errNoTruncate }

func child(string, []string) error { return errNoTruncate }
