//go:build !linux

package ipc

import "github.com/mmapkit/mmapkit/ioadapt"

// sealedWords is nil: only Linux has memfds sealed against shrinking.
func sealedWords(ioadapt.Region, int) *fastWords { return nil }
