package mmfile_test

// A File talking to itself: io.Copy with the same File, or wrappers of
// it, on both sides. Each completes (a hang fails the test after a
// generous timeout), with the result that WriteTo's rule gives: it writes
// what lies between the position and the end as of its call. The files
// live on a tmpfs of bounded size, so a copy that ran away could not fill
// the disk.

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// selfCopySize is the file's size: several of any copy buffer, and not a
// multiple of a page.
const selfCopySize = 200_003

// selfCopy runs copy on a File over a file holding data, positioned at
// pos, and returns the file's bytes afterwards, the File, and what copy
// returned; it fails t if copy hangs.
func selfCopy(t *testing.T, data []byte, pos int64, copy func(f *mmfile.File) (int64, error)) ([]byte, *mmfile.File, int64, error) {
	t.Helper()
	path := filepath.Join(testkit.SmallTmpfs(t, 64<<20), "self")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(pos, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var n int64
	if !testkit.Finishes(t, "the self-copy", func() { n, err = copy(f) }) {
		t.FailNow() // f is held by the hung copy: leave it
	}
	t.Cleanup(func() { f.Close() })
	got, rerr := os.ReadFile(path)
	if rerr != nil {
		t.Fatal(rerr)
	}
	return got, f, n, err
}

func twice(b []byte) []byte { return append(bytes.Clone(b), b...) }

func TestSelfCopy(t *testing.T) {
	a := testkit.TextPattern(selfCopySize, 1)
	n := int64(len(a))
	type want struct {
		n    int64
		err  error // nil, or the sentinel the error must wrap
		file []byte
	}
	for _, c := range []struct {
		name string
		data []byte
		pos  int64
		copy func(f *mmfile.File) (int64, error)
		want want
	}{
		{"io.Copy(OffsetWriter at the end, f)", a, 0,
			func(f *mmfile.File) (int64, error) { return io.Copy(io.NewOffsetWriter(f, f.Size()), f) },
			want{n, nil, twice(a)}},
		{"io.Copy(f at the end, SectionReader of f)", a, n,
			func(f *mmfile.File) (int64, error) { return io.Copy(f, io.NewSectionReader(f, 0, n)) },
			want{n, nil, twice(a)}},
		{"io.Copy(f at 0, SectionReader of f)", a, 0,
			func(f *mmfile.File) (int64, error) { return io.Copy(f, io.NewSectionReader(f, 0, n)) },
			want{n, nil, a}},
		{"io.Copy(f at the end, f.Section)", a, n,
			func(f *mmfile.File) (int64, error) {
				s, err := f.Section(0, n)
				if err != nil {
					return 0, err
				}
				return io.Copy(f, s)
			},
			want{n, nil, twice(a)}},
		{"io.Copy(second half's Section, f at 0)", append(bytes.Clone(a), testkit.TextPattern(selfCopySize, 2)...), 0,
			func(f *mmfile.File) (int64, error) {
				s, err := f.Section(n, n)
				if err != nil {
					return 0, err
				}
				return io.Copy(s, f)
			},
			want{n, ioadapt.ErrFixedSize, twice(a)}},
		{"io.Copy(first half's Section, f at the middle)", append(bytes.Clone(a), testkit.TextPattern(selfCopySize, 2)...), n,
			func(f *mmfile.File) (int64, error) {
				s, err := f.Section(0, n)
				if err != nil {
					return 0, err
				}
				return io.Copy(s, f)
			},
			want{n, nil, twice(testkit.TextPattern(selfCopySize, 2))}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, f, gotN, err := selfCopy(t, c.data, c.pos, c.copy)
			if gotN != c.want.n || (c.want.err == nil) != (err == nil) || (c.want.err != nil && !errors.Is(err, c.want.err)) {
				t.Errorf("= %d, %v; want %d, %v", gotN, err, c.want.n, c.want.err)
			}
			if !bytes.Equal(got, c.want.file) {
				t.Errorf("file holds %d bytes; want %d", len(got), len(c.want.file))
			}
			if size := f.Size(); size != int64(len(c.want.file)) {
				t.Errorf("Size = %d; want %d", size, len(c.want.file))
			}
		})
	}
}

// TestSelfCopyInPlace copies a File into itself at its own position, as
// io.Copy(f, f) and f.ReadFrom(f) do: the bytes come from where the
// position is and go where it is, so what ends up where depends on the
// buffering, as with os.File. What is fixed: the call returns, WriteTo
// copies no more than lay before the end at its call, the file grows by
// no more than was copied, and the File works on.
func TestSelfCopyInPlace(t *testing.T) {
	a := testkit.TextPattern(selfCopySize, 1)
	for name, copy := range map[string]func(f *mmfile.File) (int64, error){
		"io.Copy(f, f)": func(f *mmfile.File) (int64, error) { return io.Copy(f, f) },
		"f.ReadFrom(f)": func(f *mmfile.File) (int64, error) { return f.ReadFrom(f) },
	} {
		t.Run(name, func(t *testing.T) {
			got, f, n, err := selfCopy(t, a, 0, copy)
			var pe *fs.PathError
			if err != nil && (!errors.As(err, &pe) || pe.Path != f.Name()) {
				t.Errorf("error %v does not name the file", err)
			}
			if name == "io.Copy(f, f)" && n > int64(len(a)) {
				t.Errorf("copied %d bytes of a file of %d", n, len(a))
			}
			if int64(len(got)) > int64(len(a))+n {
				t.Errorf("file grew to %d bytes from %d by a copy of %d", len(got), len(a), n)
			}
			if _, err := f.WriteAt([]byte("after"), f.Size()); err != nil {
				t.Errorf("WriteAt after the self-copy: %v", err)
			}
		})
	}
}
