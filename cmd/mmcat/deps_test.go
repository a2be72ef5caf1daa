package main

import (
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestNoCgo keeps cgo out of mmcat, and so the C library's start-up out
// of every run: on Linux and the BSDs importing net (its resolver) or
// os/user (its lookups) would bring it in.
func TestNoCgo(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on this machine to list mmcat's packages")
	}
	cmd := exec.Command(gotool, "list", "-deps", "-f", "{{.ImportPath}}", ".")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=1", "GOOS="+runtime.GOOS)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if slices.Contains(strings.Fields(string(out)), "runtime/cgo") {
		t.Errorf("mmcat links cgo: go list -deps lists runtime/cgo")
	}
}
