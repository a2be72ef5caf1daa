//go:build linux && !faults

package ipc

// faultRounds is how many rounds each TestFault scenario runs: a few in
// make test; make test-faults builds with the faults tag and runs
// thousands.
const faultRounds = 8
