//go:build linux && faults

package ipc

// faultRounds is how many rounds each TestFault scenario runs under make
// test-faults.
const faultRounds = 2000
