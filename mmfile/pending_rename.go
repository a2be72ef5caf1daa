//go:build !windows

package mmfile

import (
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// renameTemp replaces files with renameio: a temporary file in the target's
// directory, fsync, rename(2), then fsync of the directory so the rename
// itself is durable.
type renameTemp struct {
	pf        *renameio.PendingFile
	path      string
	published bool
}

func newTempFile(path string) (tempFile, error) {
	pf, err := renameio.NewPendingFile(path,
		renameio.WithTempDir(filepath.Dir(path)),
		renameio.WithPermissions(0o666),
		renameio.WithExistingPermissions())
	if err != nil {
		return nil, err
	}
	return &renameTemp{pf: pf, path: path}, nil
}

func (t *renameTemp) file() *os.File { return t.pf.File }

func (t *renameTemp) replace(durable bool) error {
	if !durable {
		if err := t.pf.File.Close(); err != nil {
			return err
		}
		if err := os.Rename(t.pf.Name(), t.path); err != nil {
			return err
		}
		t.published = true
		return nil
	}
	if err := t.pf.CloseAtomicallyReplace(); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(t.path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

func (t *renameTemp) discard() error {
	if t.published {
		return nil // renamed by hand: renameio does not know it is done
	}
	return t.pf.Cleanup()
}
