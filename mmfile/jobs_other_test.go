//go:build !linux

package mmfile_test

// runGrowthChild is the hook of the growth tests' child processes, which
// run on Linux only.
func runGrowthChild() {}
