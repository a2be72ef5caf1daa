//go:build race

package mmfile_test

// raceEnabled: the race detector slows every access down; the races of
// lockfree_linux_test.go run fewer rounds.
const raceEnabled = true
