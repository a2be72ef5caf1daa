//go:build faults && linux

// The fault-and-abuse suite of sysv (make test-faults). Each scenario logs
// "faults: runs=N failures=F" for the suite's table.

package sysv

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/faulttest"
	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestFaultLeakLoop creates, attaches, writes, detaches and removes
// 100 000 segments: no segment, descriptor or mapping is left behind.
func TestFaultLeakLoop(t *testing.T) {
	ty := faulttest.New(t)
	fds, maps := testkit.FDs(t), testkit.Maps(t)
	rounds := testkit.EnvInt("MMAPKIT_LEAK_ROUNDS", 100000)
	for i := range rounds {
		s, err := CreatePrivate(4096)
		if err != nil {
			ty.Round(err)
			continue
		}
		_, err = s.WriteAt([]byte("x"), int64(i%4096))
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if rerr := s.Remove(); err == nil {
			err = rerr
		}
		ty.Round(err)
	}
	faulttest.CheckNoGrowth(t, fds, maps, 0)
	if leaks := leftovers(); len(leaks) > 0 {
		t.Errorf("%d segments left behind", len(leaks))
	}
}

// TestFaultForeignOwner plants a segment owned by another user under a
// key, and tries every way in: an exclusive create refuses it, a size
// mismatch is reported, and a process of a third user is refused; the
// planted segment is never changed or removed.
func TestFaultForeignOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("planting a segment for another user needs root")
	}
	ty := faulttest.New(t)
	key := newKey(t)
	planted, err := Create(key, 8192, Mode(0o600))
	if err != nil {
		t.Fatal(err)
	}
	cleanupSegment(t, planted)
	if _, err := planted.WriteAt([]byte("planted"), 0); err != nil {
		t.Fatal(err)
	}
	var desc unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(planted.ID(), unix.IPC_STAT, &desc); err != nil {
		t.Fatal(err)
	}
	desc.Perm.Uid, desc.Perm.Gid = 65534, 65534
	if _, err := unix.SysvShmCtl(planted.ID(), unix.IPC_SET, &desc); err != nil {
		t.Fatal(err)
	}
	check := func(what string, s *Segment, err error, want error) {
		t.Helper()
		if s != nil {
			s.Close()
		}
		switch {
		case err == nil:
			ty.Round(fmt.Errorf("%s: no error", what))
		case !errors.Is(err, want):
			ty.Round(fmt.Errorf("%s: %v; want %v", what, err, want))
		default:
			ty.Round(nil)
		}
	}
	s, err := Create(key, 8192)
	check("Create on a foreign key", s, err, fs.ErrExist)
	s, err = OpenOrCreate(key, 4096)
	check("OpenOrCreate with another size", s, err, ioadapt.ErrSizeMismatch)
	s, err = Open(key, ExpectSize(1<<20))
	check("Open expecting another size", s, err, ioadapt.ErrSizeMismatch)
	for _, size := range []int64{-1, 0, math.MinInt64, math.MaxInt64, 1 << 62} {
		s, err := Create(newKey(t), size)
		if s != nil {
			cleanupSegment(t, s)
		}
		if err == nil {
			ty.Round(fmt.Errorf("Create with size %d: no error", size))
		} else {
			ty.Round(nil)
		}
	}
	for _, id := range []int{-1, math.MaxInt32, math.MinInt32} {
		s, err := AttachID(id)
		if s != nil {
			s.Close()
		}
		if err == nil {
			ty.Round(fmt.Errorf("AttachID(%d): no error", id))
		} else {
			ty.Round(nil)
		}
	}
	// A process of a third user is refused at the door.
	bin, dir := binaryForOthers(t)
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = testkit.JobEnviron("open", keyEnv+"="+key.String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 12345, Gid: 12345}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		ty.Round(fmt.Errorf("child as uid 12345: %v: %s", err, out))
	} else if !bytes.HasPrefix(out, []byte("err true")) {
		ty.Round(fmt.Errorf("child as uid 12345 said %q; want a permission error", out))
	} else {
		ty.Round(nil)
	}
	got := make([]byte, 7)
	if _, err := planted.ReadAt(got, 0); err != nil || string(got) != "planted" {
		t.Errorf("planted segment changed: %q, %v", got, err)
	}
}

// TestFaultManyProcesses has processes write disjoint ranges of one
// segment while others read it: the final contents are exactly what was
// written.
func TestFaultManyProcesses(t *testing.T) {
	ty := faulttest.New(t)
	const writers, span = 6, 1 << 16
	for round := range 100 {
		s := mustCreate(t, writers*span)
		var cmds []*exec.Cmd
		for w := range writers {
			cmds = append(cmds, testkit.Command("slot", append(testkit.SlotEnv(w, span, round), keyEnv+"="+s.Key().String())...))
		}
		for range 2 {
			cmds = append(cmds, testkit.Command("open", keyEnv+"="+s.Key().String(), flagsEnv+"=ro"))
		}
		failed := testkit.RunAll(cmds)
		if failed == nil {
			failed = testkit.CheckSlots(s, writers, span, round)
		}
		ty.Round(failed)
	}
}
