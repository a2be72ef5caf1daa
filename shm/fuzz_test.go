package shm

import (
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// validName is the oracle: the naming rules restated one by one.
func validName(name string) bool {
	n, _ := strings.CutPrefix(name, "/")
	if n == "" || n == "." || n == ".." || len(n) > 255 || strings.HasPrefix(n, "sem.") {
		return false
	}
	if runtime.GOOS == "windows" && !utf8.ValidString(n) {
		return false
	}
	for i := 0; i < len(n); i++ {
		switch n[i] {
		case '/', 0:
			return false
		case '\\':
			if runtime.GOOS == "windows" {
				return false
			}
		}
	}
	return true
}

// FuzzName checks cleanName against the oracle, and that a name it accepts
// can only ever name a file directly inside the shared-memory directory.
func FuzzName(f *testing.F) {
	for _, s := range []string{"demo", "/demo", "", "/", ".", "..", "/..", "a/b", "//a",
		"a\x00", "../x", "/../x", "sem.x", "/sem.", "sem", "a\\b", strings.Repeat("x", 255), strings.Repeat("x", 256), "...", " ", "\xff"} {
		f.Add(s)
	}
	dir := filepath.Clean("/dev/shm") // \dev\shm on Windows
	f.Fuzz(func(t *testing.T, name string) {
		n, err := cleanName("open", name)
		if ok := validName(name); ok != (err == nil) {
			t.Fatalf("cleanName(%q) = %q, %v; the rules say valid=%v", name, n, err, ok)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("cleanName(%q) error %v does not wrap ErrInvalidName", name, err)
			}
			// The message is about the name as given.
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != name {
				t.Fatalf("cleanName(%q) error %v is not an *fs.PathError for the name", name, err)
			}
			msg := pe.Err.Error()
			if name != "" && !strings.Contains(msg, "bytes long") && !strings.Contains(msg, strconv.Quote(name)) {
				t.Fatalf("cleanName(%q) error %q does not quote the name", name, msg)
			}
			if strings.Contains(msg, "leading") && !strings.HasPrefix(name, "/") {
				t.Fatalf("cleanName(%q) error %q speaks of a leading slash the name does not have", name, msg)
			}
			return
		}
		p := filepath.Join(dir, n)
		if filepath.Dir(p) != dir || filepath.Base(p) != n {
			t.Fatalf("name %q resolves to %q, not a file directly in %s", name, p, dir)
		}
		if n2, err := cleanName("open", "/"+n); err != nil || n2 != n {
			t.Fatalf("%q and /%q name different segments: %q, %v", n, n, n2, err)
		}
	})
}
