//go:build !linux

package main

// commandSetup has nothing to prepare: the switches it knows are Linux's.
func commandSetup() error { return nil }
