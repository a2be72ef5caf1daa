package ioadapt_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// jobs are what the test binary does as the other process of the
// cross-process tests.
var jobs = testkit.Jobs{
	// truncate MMAPKIT_TEST_PATH to MMAPKIT_TEST_SIZE bytes.
	"truncate": func() error {
		size, err := strconv.ParseInt(os.Getenv("MMAPKIT_TEST_SIZE"), 10, 64)
		if err != nil {
			return err
		}
		return os.Truncate(os.Getenv("MMAPKIT_TEST_PATH"), size)
	},
}

// TestMain lets the test binary serve as the other process of
// cross-process tests: with a job named it does that job and exits
// instead of running tests.
func TestMain(m *testing.M) {
	testkit.Serve(jobs)
	os.Exit(m.Run())
}
