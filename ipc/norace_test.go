//go:build (linux || windows) && !race

package ipc

const raceEnabled = false
