//go:build !linux

package mmfile_test

import "github.com/mmapkit/mmapkit/internal/testkit"

// growthJobs are the other processes of the growth tests, which run on
// Linux only.
var growthJobs testkit.Jobs
