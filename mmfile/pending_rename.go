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
	pf   *renameio.PendingFile
	path string
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

func (t *renameTemp) replace() error {
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

func (t *renameTemp) discard() error { return t.pf.Cleanup() }
