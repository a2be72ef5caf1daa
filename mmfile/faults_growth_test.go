//go:build faults && linux

// The growth and peer scenarios of the fault-and-abuse suite (make
// test-faults), hundreds of rounds each: processes that grow one file
// together, writers killed mid-copy, files truncated under an io.Copy
// into an io.Pipe.

package mmfile_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmapkit/mmapkit/internal/faulttest"
	"github.com/mmapkit/mmapkit/internal/testkit"
)

// TestFaultGrowthSlots has six processes io.Copy into their own slots of
// one empty file, from pipes and from strings.Readers, many times: no
// slot is ever lost.
func TestFaultGrowthSlots(t *testing.T) {
	ty := faulttest.New(t)
	dir := t.TempDir()
	for round := range testkit.EnvInt("MMAPKIT_GROWTH_ROUNDS", 200) {
		source := [2]string{"pipe", "strings"}[round%2]
		ty.Round(slotRound(dir, "mmfile", source, round))
	}
}

// TestFaultKilledCopy kills processes in the middle of an io.Copy of a
// slow stream into a file, many times: the file never holds more than was
// sent, nor other bytes.
func TestFaultKilledCopy(t *testing.T) {
	ty := faulttest.New(t)
	path := filepath.Join(t.TempDir(), "killed")
	rng := rand.New(rand.NewPCG(rand.Uint64(), 3))
	for round := range testkit.EnvInt("MMAPKIT_CRASH_ROUNDS", 300) {
		ty.Round(killedCopyRound(path, "mmfile", round, rng))
	}
}

// TestFaultPipeTruncate truncates a file from another process while a
// process io.Copies it into an io.Pipe, many times, at cuts and with read
// sizes that vary: the copying process lives and gets the fault as
// io.Copy's error, with the count its reader received.
func TestFaultPipeTruncate(t *testing.T) {
	ty := faulttest.New(t)
	path := filepath.Join(testkit.SmallTmpfs(t, 16<<20), "piped")
	page := os.Getpagesize()
	const size = 4 << 20
	for range testkit.EnvInt("MMAPKIT_FAULT_ROUNDS", 200) {
		cut := page * (1 + rand.IntN(size/2/page))
		chunk := 1 + rand.IntN(64<<10)
		ty.Round(pipeRound(path, size, cut, chunk))
	}
}
