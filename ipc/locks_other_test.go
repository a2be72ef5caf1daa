//go:build !linux && !windows

package ipc

import "github.com/mmapkit/mmapkit/internal/testkit"

// lockJobs is empty where the lock objects are not supported: no test
// starts their child processes here.
var lockJobs = testkit.Jobs{}
