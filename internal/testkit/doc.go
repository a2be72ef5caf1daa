// Package testkit holds what the tests of every package of the module
// share: the harness that re-runs the test binary as another process
// doing a named job (a command's main among them), children the test
// talks to line by line, a probe of the descriptors a process inherits,
// waits that kill a hung child and say so, the byte patterns the tests
// write and compare, the slots that many processes write at once, a
// small tmpfs (one every user can enter, too) for the tests that fill a
// file system, counts of this process's descriptors and mappings, peers
// that panic or hang, the check of errors tied to a path, and the loops
// that the segment benchmarks share.
//
// It imports nothing of the module, so that the tests of any package,
// internal or external, can use it. The fault suite's own report
// (internal/faulttest) and the tables over the whole exported API
// (internal/apitest) stay in packages of their own.
package testkit
