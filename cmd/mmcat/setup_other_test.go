//go:build !linux

package main

// commandSetup has nothing to prepare: the switches it knows are Linux's.
func commandSetup() error { return nil }

// noCoreDumps has nothing to do: the tests that send signals which dump
// core run on Linux.
func noCoreDumps() {}
