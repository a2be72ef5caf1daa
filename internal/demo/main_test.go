package main

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestMain lets the test binary serve as the demo's child processes, as
// the demo's own binary does: main does the job and exits.
func TestMain(m *testing.M) {
	if job := os.Getenv(jobEnv); job != "" {
		main()
	}
	os.Exit(m.Run())
}

// TestDemo runs the demo: the reader of a mapping made by hand dies of
// SIGBUS, the reader through mmfile gets a fault error that says the file
// shrank to 0 bytes.
func TestDemo(t *testing.T) {
	var out strings.Builder
	err := run(&out)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"died: exit status", "[signal SIGBUS", "goes on: read ", "the file shrank to 0 bytes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output does not say %q:\n%s", want, out.String())
		}
	}
}
