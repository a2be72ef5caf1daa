//go:build windows

package main

import "os"

// interruptSignals are what Windows delivers to a console program: Ctrl+C
// and Ctrl+Break.
var interruptSignals = []os.Signal{os.Interrupt}

// keepBlockedSIGPIPE does nothing: Windows has no SIGPIPE.
func keepBlockedSIGPIPE() {}

// blockedAtStart reports false: Windows has no signal mask.
func blockedAtStart(os.Signal) bool { return false }

// raise ends the process as Ctrl+C ends a console program: with the status
// STATUS_CONTROL_C_EXIT.
func raise(os.Signal) { os.Exit(0xC000013A) }

// dieOfSIGPIPE does nothing: Windows has no SIGPIPE, and the write error
// is reported.
func dieOfSIGPIPE(*os.File) {}

// dieOfSIGXFSZ does nothing: Windows has no file size limit to signal, and
// the write error is reported.
func dieOfSIGXFSZ(error) {}
