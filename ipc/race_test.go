//go:build linux && race

package ipc

const raceEnabled = true
