//go:build !race

package mmfile_test

const raceEnabled = false
