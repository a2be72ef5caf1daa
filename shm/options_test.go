package shm

import (
	"errors"
	"io/fs"
	"runtime"
	"strings"
	"testing"
)

// TestOptionsRefused checks the one option policy: an option that this
// platform cannot honour, or an invalid one, makes every entry point fail
// before anything is created, naming the option (and the platform); a nil
// Option is ignored.
func TestOptionsRefused(t *testing.T) {
	type refusal struct {
		opt    Option
		target error
		says   string
	}
	refused := []refusal{
		{Mode(0o600 | fs.ModeSetuid), fs.ErrInvalid, "bits other than the permission bits"},
		{Mode(fs.ModeDir | 0o755), fs.ErrInvalid, "bits other than the permission bits"},
	}
	switch runtime.GOOS {
	case "linux":
		refused = append(refused, refusal{Global(), errors.ErrUnsupported, "Global on linux"})
	case "windows":
		refused = append(refused,
			refusal{Mode(0o600), errors.ErrUnsupported, "Mode on windows"},
			refusal{RequireSecure(), errors.ErrUnsupported, "RequireSecure on windows"})
	}
	for _, r := range refused {
		name := segName(t)
		calls := map[string]func() (*Segment, error){
			"Create":          func() (*Segment, error) { return Create(name, 4096, r.opt) },
			"Open":            func() (*Segment, error) { return Open(name, r.opt) },
			"OpenOrCreate":    func() (*Segment, error) { return OpenOrCreate(name, 4096, r.opt) },
			"CreateUnique":    func() (*Segment, error) { return CreateUnique(testPrefix, 4096, r.opt) },
			"CreateAnonymous": func() (*Segment, error) { return CreateAnonymous(4096, r.opt) },
		}
		for call, open := range calls {
			s, err := open()
			if err == nil {
				s.Close()
			}
			var pe *fs.PathError
			if !errors.Is(err, r.target) || !errors.As(err, &pe) || !strings.Contains(err.Error(), r.says) {
				t.Errorf("%s with %s = %v; want an *fs.PathError wrapping %v", call, r.says, err, r.target)
			}
		}
		if _, err := Open(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a refused option left a segment behind: Open = %v", err)
		}
	}
	if runtime.GOOS == "linux" || runtime.GOOS == "windows" {
		s, _ := create(t, 16, nil, ReadOnly(), nil)
		if s.Writable() {
			t.Error("ReadOnly among nil Options was not applied")
		}
	}
}
