//go:build !unix && !windows

package mmfile

import (
	"io/fs"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// Without mappings there is no Pending here, and no leftover of one.

func newTempFile(path string) (tempFile, error) {
	return nil, &fs.PathError{Op: "replace", Path: path, Err: errs.Unsupported("memory mapping")}
}

func removeLeftover(string) (bool, error) { return false, nil }
