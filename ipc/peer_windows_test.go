package ipc

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestSlotLiveness: a slot's owner is alive while its pid has a process
// with its creation time; a process that has exited is dead, while a
// handle still holds its object and after it is gone.
func TestSlotLiveness(t *testing.T) {
	id, err := self()
	if err != nil {
		t.Fatal(err)
	}
	if !pidAlive(peerSnap{word: owner(slotAttached, 1, id.pid), start: id.start, pidNS: id.pidNS}) {
		t.Error("this process is not alive")
	}
	if pidAlive(peerSnap{word: owner(slotAttached, 1, id.pid), start: id.start + 1, pidNS: id.pidNS}) {
		t.Error("a process with another creation time is alive: pid reuse goes unseen")
	}
	c := startChild(t, "sleep", "", "")
	cpid := c.pid()
	// The oracle: the creation time as the Windows API gives it, read here
	// without the package's code.
	h, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(cpid))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if h != 0 {
			windows.CloseHandle(h)
		}
	}()
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		t.Fatal(err)
	}
	start := uint64(created.HighDateTime)<<32 | uint64(created.LowDateTime)
	snap := peerSnap{word: owner(slotAttached, 1, cpid), start: start, pidNS: id.pidNS}
	if !pidAlive(snap) {
		t.Error("a running child is not alive")
	}
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Our handle keeps the process object: exited, not yet gone.
	if _, err := windows.WaitForSingleObject(h, uint32(hang/time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if pidAlive(snap) {
		t.Error("a child that exited is alive while a handle holds its object")
	}
	c.cmd.Wait()
	windows.CloseHandle(h)
	h = 0
	if pidAlive(snap) {
		t.Error("a child that exited is alive")
	}
}

// TestSlotStartTime: the slot's start_time is the attached process's
// creation time, as GetProcessTimes gives it, and pid_ns is 0.
func TestSlotStartTime(t *testing.T) {
	buf := make([]byte, PipeSize(4096))
	p, err := CreatePipe(ioadapt.NewMemory(buf))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Writer(); err != nil {
		t.Fatal(err)
	}
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(windows.CurrentProcess(), &created, &exited, &kernel, &user); err != nil {
		t.Fatal(err)
	}
	want := uint64(created.HighDateTime)<<32 | uint64(created.LowDateTime)
	le := binary.LittleEndian
	if got := le.Uint64(buf[offSlots+offSlotStart:]); got != want {
		t.Errorf("start_time %d, GetProcessTimes says %d", got, want)
	}
	if got := le.Uint64(buf[offSlots+offSlotPidNS:]); got != 0 {
		t.Errorf("pid_ns %d, want 0", got)
	}
}

// TestForeignWaker wakes a blocked reader as a peer written from
// docs/ipc-layout.md (section 9) would: it names the data event from the
// header's wait_id, puts bytes in the ring, stores tail, and, seeing a
// sleeper, bumps data_seq and sets the event. The reader must get the
// bytes long before its re-check would find them.
func TestForeignWaker(t *testing.T) {
	s, p := shmPipe(t, 4096)
	r, err := p.Reader()
	if err != nil {
		t.Fatal(err)
	}
	hdr := s.Bytes()
	le := binary.LittleEndian
	id := le.Uint64(hdr[80:])
	if id == 0 {
		t.Fatal("wait_id is 0")
	}
	ev := openWaitEvent(t, id, 512, "the reader's data event")
	// The writer's slot, as a peer claims it: without a writer the
	// reader would not watch for one.
	me, err := self()
	if err != nil {
		t.Fatal(err)
	}
	atomic.StoreUint64(u64(hdr, offSlots+offSlotStart), me.start)
	atomic.StoreUint32(u32(hdr, offSlots+offSlotRole), roleWriter)
	atomic.StoreUint64(u64(hdr, offSlots+offSlotOwner), owner(slotAttached, 1, os.Getpid()))
	atomic.StoreUint32(u32(hdr, offWriterState), roleOpen)

	got := make(chan error, 1)
	buf := make([]byte, 16)
	var n int
	go func() {
		var err error
		n, err = r.Read(buf)
		got <- err
	}()
	sleepers := u32(hdr, offDataSleepers)
	for deadline := time.Now().Add(hang); atomic.LoadUint32(sleepers) == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the reader did not go to sleep within %v", hang)
		}
		time.Sleep(time.Millisecond)
	}
	copy(hdr[pipeDataOffset:], "hello")
	woken := time.Now()
	atomic.StoreUint64(u64(hdr, offTail), 5)
	if atomic.LoadUint32(sleepers) != 0 {
		atomic.AddUint32(u32(hdr, offDataSeq), 1)
		if err := windows.SetEvent(ev); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-got:
		if err != nil || string(buf[:n]) != "hello" {
			t.Fatalf("Read = %q, %v", buf[:n], err)
		}
	case <-time.After(hang):
		t.Fatalf("Read still blocked %v after the wake", hang)
	}
	// The Go side re-checks every 50 ms unwatched and every second
	// watched: a wake that worked is much quicker than a second.
	if d := time.Since(woken); d >= recheckWatched {
		t.Errorf("the Read took %v after the wake: the event did not wake it", d)
	}
	atomic.StoreUint64(u64(hdr, offSlots+offSlotOwner), owner(slotFree, 1, 0))
}

// TestLockFileRefused: Windows has no open file description locks, and a
// pipe asked to lock a file says so.
func TestLockFileRefused(t *testing.T) {
	f, err := os.Create(t.TempDir() + `\lock`)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = CreatePipe(ioadapt.NewMemory(make([]byte, PipeSize(4096))), LockFile(f))
	wantErr(t, err, ErrUnsupported)
}

// openWaitEvent opens, for setting it, the wait event that section 9 of
// the layout names after the wait_id id and the offset off, and closes
// it at the end of the test; what says what the event is for.
func openWaitEvent(t *testing.T, id uint64, off int, what string) windows.Handle {
	t.Helper()
	name, err := windows.UTF16PtrFromString(fmt.Sprintf(`Local\mmapkit-ipc-%016x-%d`, id, off))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := windows.OpenEvent(windows.EVENT_MODIFY_STATE, false, name)
	if err != nil {
		t.Fatalf("%s is not there under its name in the layout: %v", what, err)
	}
	t.Cleanup(func() { windows.CloseHandle(ev) })
	return ev
}
