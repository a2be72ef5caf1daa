//go:build !linux

package mmfile_test

import "github.com/mmapkit/mmapkit/internal/testkit"

// attackJobs are the other processes of the attack tests, which run on
// Linux alone.
var attackJobs testkit.Jobs
