package main

import (
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestNoCgo keeps mmcat free of the packages that link the C library
// through cgo (net's resolver, os/user's lookups) into every run, and so
// its start-up time: the binary stays static.
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
	deps := strings.Fields(string(out))
	for _, p := range []string{"runtime/cgo", "net", "os/user"} {
		if slices.Contains(deps, p) {
			t.Errorf("mmcat imports %s", p)
		}
	}
}
