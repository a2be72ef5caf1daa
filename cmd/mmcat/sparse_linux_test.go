package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// hashWriter hashes and counts what is written to it.
type hashWriter struct {
	h hash.Hash
	n int64
}

func (w *hashWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return w.h.Write(p)
}

func (w *hashWriter) String() string { return fmt.Sprintf("%d bytes, sha256 %x", w.n, w.h.Sum(nil)) }

// blocks returns the st_blocks of path.
func blocks(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Blocks
}

// TestSparseTmpfs copies a 64 MiB sparse file on a 16 MiB tmpfs, and a
// sparse POSIX segment, into a pipe, raw and formatted: a read fault on
// a hole of a tmpfs file allocates a page, so a mapping would fill the
// file system (and fail with "Bad address") where cat, which reads,
// allocates nothing. mmcat's output must be cat's, its status 0, and the
// file's blocks what they were.
func TestSparseTmpfs(t *testing.T) {
	requireGNUCat(t)
	dir := testkit.SmallTmpfs(t, 16<<20)
	path := filepath.Join(dir, "sparse")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{0, 5 << 20, 40<<20 + 123} {
		if _, err := f.WriteAt([]byte("data\n"), off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(64 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	sources := [][2]string{{path, path}} // mmcat's operand, its file
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		name := shmName(t)
		seg := filepath.Join("/dev/shm", name)
		if err := os.WriteFile(seg, []byte("segment\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(seg, 8<<20); err != nil {
			t.Fatal(err)
		}
		sources = append(sources, [2]string{"shm:" + name, seg})
	}
	for _, src := range sources {
		for _, opts := range [][]string{nil, {"-n"}, {"--offset", "1M", "--length", "5M"}} {
			before := blocks(t, src[1])
			var outs [2]*hashWriter
			for i, prog := range []string{gnuCatPath, mmcatBin} {
				args := append(append([]string{}, opts...), src[0])
				if prog == gnuCatPath {
					args[len(args)-1] = src[1]
					if len(opts) > 0 && opts[0] == "--offset" {
						// cat has no range: the same bytes, by read(2).
						prog, args = "sh", []string{"-c", `"$0" "$1" | tail -c +1048577 | head -c 5242880`, gnuCatPath, src[1]}
					}
				}
				outs[i] = &hashWriter{h: sha256.New()}
				cmd := command(prog, args...)
				if prog == mmcatBin {
					cmd.Env = append(cmd.Env, asMmcat)
				}
				var stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = outs[i], &stderr
				if err := testkit.Run(t, cmd); err != nil || stderr.Len() > 0 {
					t.Errorf("%s %q: %v, stderr %q", prog, args, err, stderr.String())
				}
			}
			if outs[1].String() != outs[0].String() {
				t.Errorf("mmcat %q %s: %s; cat: %s", opts, src[0], outs[1], outs[0])
			}
			if after := blocks(t, src[1]); after != before {
				t.Errorf("mmcat %q %s: the file's st_blocks went from %d to %d", opts, src[0], before, after)
			}
		}
	}
}
