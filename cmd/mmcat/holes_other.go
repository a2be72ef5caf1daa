//go:build !linux

package main

import "os"

// holesFillWhenMapped reports false: only Linux is known here to allocate
// the holes of a file that a mapping reads (see holes_linux.go).
func holesFillWhenMapped(*os.File) bool { return false }
