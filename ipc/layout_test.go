//go:build linux || windows

package ipc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/shm"
)

// docField is a row of a table of docs/ipc-layout.md.
type docField struct {
	off, size int
	name      string
}

// docTables reads the tables of the layout doc, by the heading they sit
// under: "2." (the header), "3." (the control lines), "4." (a slot),
// "6.4" (a message frame), "8.4" to "8.6" (the mutex, semaphore and
// event).
func docTables(t *testing.T) map[string][]docField {
	t.Helper()
	f, err := os.Open("../docs/ipc-layout.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tables := map[string][]docField{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if h, ok := strings.CutPrefix(line, "## "); ok {
			section = strings.Fields(h)[0]
			continue
		}
		if h, ok := strings.CutPrefix(line, "### "); ok {
			if f := strings.Fields(h)[0]; f == "6.4" || strings.HasPrefix(f, "8.") {
				section = f
			}
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 6 {
			continue
		}
		off, err1 := strconv.Atoi(strings.TrimSpace(cells[1]))
		if err1 != nil {
			continue // the heading row and the rule
		}
		sizeText := strings.TrimSpace(cells[2])
		size, err := strconv.Atoi(sizeText)
		if err != nil {
			size = -1 // "length": the payload
		}
		tables[section] = append(tables[section], docField{off: off, size: size, name: strings.TrimSpace(cells[4])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return tables
}

// TestLayoutMatchesDoc checks the Go offsets against the tables of
// docs/ipc-layout.md, and that the tables tile their lines without gaps or
// overlaps.
func TestLayoutMatchesDoc(t *testing.T) {
	tables := docTables(t)
	goFields := map[string]map[string][2]int{
		"2.": {
			"magic": {offMagic, 8}, "version_major": {offMajor, 2}, "version_minor": {offMinor, 2},
			"header_size": {offHeaderSize, 4}, "kind": {offKind, 4}, "flags": {offFlags, 4},
			"line_size": {offLineSize, 4}, "slot_count": {offSlotCount, 4}, "capacity": {offCapacity, 8},
			"data_offset": {offDataOffset, 8}, "lock_base": {offLockBase, 8}, "lock_dev": {offLockDev, 8},
			"lock_ino": {offLockIno, 8}, "state": {offState, 4}, "wait_id": {offWaitID, 8},
		},
		"3.": {
			"writer_state": {offWriterState, 4}, "reader_state": {offReaderState, 4},
			"tail": {offTail, 8}, "head": {offHead, 8},
			"data_seq": {offDataSeq, 4}, "data_sleepers": {offDataSleepers, 4},
			"data_wake_time": {offDataSeq + offWakeTime, 8},
			"space_seq":      {offSpaceSeq, 4}, "space_sleepers": {offSpaceSleepers, 4},
			"space_wake_time": {offSpaceSeq + offWakeTime, 8},
		},
		"4.": {
			"owner": {offSlotOwner, 8}, "role": {offSlotRole, 4},
			"start_time": {offSlotStart, 8}, "pid_ns": {offSlotPidNS, 8},
		},
		"6.4": {"length": {0, 4}, "type": {4, 2}, "flags": {6, 2}},
		"8.4": {"lock": {offMutexLock, 8}, "mutex_seq": {offMutexSeq, 4}, "mutex_sleepers": {offMutexSleepers, 4}},
		"8.5": {"count": {offSemCount, 8}, "sem_max": {offSemMax, 4}, "sem_seq": {offSemSeq, 4}, "sem_sleepers": {offSemSleepers, 4},
			"permits": {offSlotPermits, 8}},
		"8.6": {"event_state": {offEventState, 4}, "event_mode": {offEventMode, 4}, "event_seq": {offEventSeq, 4},
			"event_sleepers": {offEventSleepers, 4}},
	}
	// The byte ranges each section's tables tile, one table after another:
	// an object's line 1, and a semaphore's part of a slot.
	line1, slotPart := [2]int{lineSize, offObjSlots}, [2]int{slotSize, objSlotStride}
	spans := map[string][][2]int{"2.": {{0, lineSize}}, "3.": {{lineSize, offSlots}}, "4.": {{0, slotSize}},
		"8.4": {line1}, "8.5": {line1, slotPart}, "8.6": {line1}}
	for section, want := range goFields {
		rows := tables[section]
		if len(rows) == 0 {
			t.Fatalf("the doc has no table under section %s", section)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if r.name == "reserved" || r.name == "payload" {
				continue
			}
			g, ok := want[r.name]
			if !ok {
				t.Errorf("section %s: the doc has field %s, the Go code does not", section, r.name)
				continue
			}
			seen[r.name] = true
			if r.off != g[0] || r.size != g[1] {
				t.Errorf("section %s: %s is at %d size %d in the doc, at %d size %d in Go", section, r.name, r.off, r.size, g[0], g[1])
			}
			if r.size > 0 && r.off%r.size != 0 {
				t.Errorf("section %s: %s at %d is not aligned to its size %d", section, r.name, r.off, r.size)
			}
		}
		for name := range want {
			if !seen[name] {
				t.Errorf("section %s: Go has field %s, the doc does not", section, name)
			}
		}
		if ranges, ok := spans[section]; ok {
			i, next := 0, ranges[0][0]
			for _, r := range rows {
				if next == ranges[i][1] && i+1 < len(ranges) {
					i, next = i+1, ranges[i+1][0] // the next table
				}
				if r.off != next {
					t.Errorf("section %s: %s starts at %d, the row before ends at %d", section, r.name, r.off, next)
				}
				next = r.off + r.size
			}
			if i != len(ranges)-1 || next != ranges[i][1] {
				t.Errorf("section %s: table %d ends at %d, want %d", section, i+1, next, ranges[len(ranges)-1][1])
			}
		}
	}
	// The hot words of each side are on lines of their own.
	lines := map[int]string{}
	for name, off := range map[string]int{"header": 0, "states": offWriterState, "tail": offTail, "head": offHead,
		"data wait": offDataSeq, "space wait": offSpaceSeq, "slots": offSlots} {
		l := off / lineSize
		if other, ok := lines[l]; ok {
			t.Errorf("%s and %s share line %d", name, other, l)
		}
		lines[l] = name
	}
	if pipeHeaderEnd > pipeDataOffset || pipeDataOffset%lineSize != 0 {
		t.Errorf("header of %d bytes, data at %d", pipeHeaderEnd, pipeDataOffset)
	}
}

// field reads the little-endian field of the given size at off.
func field(b []byte, off, size int) uint64 {
	switch size {
	case 2:
		return uint64(binary.LittleEndian.Uint16(b[off:]))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b[off:]))
	}
	return binary.LittleEndian.Uint64(b[off:])
}

// TestHeaderBytes lays out a pipe and reads its fields back at the doc's
// offsets, with the values the doc gives them; the slot's pid, start time
// and PID namespace are checked against Python and coreutils.
func TestHeaderBytes(t *testing.T) {
	byName := map[string]docField{}
	for section, rows := range docTables(t) {
		for _, r := range rows {
			byName[section+r.name] = r
		}
	}
	at := func(b []byte, section, name string, base int) uint64 {
		r, ok := byName[section+name]
		if !ok {
			t.Fatalf("the doc has no field %s in section %s", name, section)
		}
		return field(b, base+r.off, r.size)
	}
	buf := make([]byte, PipeSize(1<<12))
	p, err := CreatePipe(ioadapt.NewMemory(buf), Messages())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := string(buf[0:8]); got != "MMKITIPC" {
		t.Errorf("magic %q", got)
	}
	for name, want := range map[string]uint64{
		"version_major": 1, "version_minor": 2, "header_size": 1152, "kind": 2, "flags": 0,
		"line_size": 128, "slot_count": 2, "capacity": 4096, "data_offset": 4096,
		"lock_base": 0, "lock_dev": 0, "lock_ino": 0, "state": 2,
	} {
		if got := at(buf, "2.", name, 0); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	if id := at(buf, "2.", "wait_id", 0); id == 0 {
		t.Errorf("wait_id is 0: the wait events would have no name")
	}
	w, r := ends(t, p)
	if _, err := w.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	slot0 := offSlots
	ownerWord := at(buf, "4.", "owner", slot0)
	if st, pid := ownerWord&0xff, ownerWord>>32; st != 2 || int(pid) != os.Getpid() {
		t.Errorf("writer slot owner %#x: state %d pid %d, want 2 and %d", ownerWord, st, pid, os.Getpid())
	}
	if role := at(buf, "4.", "role", slot0); role != 1 {
		t.Errorf("writer slot role %d", role)
	}
	if role := at(buf, "4.", "role", slot0+slotSize); role != 2 {
		t.Errorf("reader slot role %d", role)
	}
	if py, err := exec.LookPath("python3"); err == nil {
		out, err := exec.Command(py, "-c", "import os; print(open('/proc/%d/stat' % os.getppid()).read().rpartition(')')[2].split()[19])").Output()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
		if got := at(buf, "4.", "start_time", slot0); got != want {
			t.Errorf("start_time %d, Python reads %d", got, want)
		}
	}
	if out, err := exec.Command("stat", "-L", "-c", "%i", "/proc/self/ns/pid").Output(); err == nil {
		want, _ := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
		if got := at(buf, "4.", "pid_ns", slot0); got != want {
			t.Errorf("pid_ns %d, stat(1) says %d", got, want)
		}
	}
	if tail := at(buf, "3.", "tail", 0); tail != 16 {
		t.Errorf("tail %d after a 3-byte record, want 16", tail)
	}
	if st := at(buf, "3.", "writer_state", 0); st != 1 {
		t.Errorf("writer_state %d", st)
	}
	frame := buf[pipeDataOffset:]
	if l, ty, fl := at(frame, "6.4", "length", 0), at(frame, "6.4", "type", 0), at(frame, "6.4", "flags", 0); l != 3 || ty != 1 || fl != 0 {
		t.Errorf("frame length %d type %d flags %d", l, ty, fl)
	}
	if got := string(frame[8:11]); got != "abc" {
		t.Errorf("payload %q", got)
	}
	got := make([]byte, 8)
	if n, err := r.Read(got); err != nil || string(got[:n]) != "abc" {
		t.Fatalf("read %q, %v", got[:n], err)
	}
	if head := at(buf, "3.", "head", 0); head != 16 {
		t.Errorf("head %d", head)
	}
	w.Close()
	r.Close()
	if st := at(buf, "2.", "state", 0); st != 3 {
		t.Errorf("state %d after both ends closed, want 3", st)
	}
	if ws, rs := at(buf, "3.", "writer_state", 0), at(buf, "3.", "reader_state", 0); ws != 2 || rs != 2 {
		t.Errorf("writer_state %d reader_state %d after Close", ws, rs)
	}
	if o := at(buf, "4.", "owner", slot0); o&0xff != 0 || o>>32 != 0 {
		t.Errorf("writer slot owner %#x after Close, want free", o)
	}
}

// freshHeader returns the bytes of a new pipe's region of the given
// capacity, as CreatePipe laid it out.
func freshHeader(t *testing.T, capacity int64) []byte {
	t.Helper()
	buf := make([]byte, PipeSize(capacity))
	p, err := CreatePipe(ioadapt.NewMemory(buf))
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	return buf
}

// TestOpenHostileHeaders opens regions whose header was changed, field by
// field: each is refused with an error that names the field and the
// value found, in bounded time.
func TestOpenHostileHeaders(t *testing.T) {
	le := binary.LittleEndian
	cases := []struct {
		name   string
		change func(b []byte) []byte
		target error
		want   []string
	}{
		{"foreign magic", func(b []byte) []byte { copy(b, "NOTMMKIT"); return b }, ErrInvalidHeader, []string{`magic "NOTMMKIT"`, "MMKITIPC"}},
		{"other major version", func(b []byte) []byte { le.PutUint16(b[offMajor:], 2); return b }, ErrInvalidHeader, []string{"version_major 2", "version 2.2"}},
		{"other kind", func(b []byte) []byte { le.PutUint32(b[offKind:], 9); return b }, ErrInvalidHeader, []string{"kind 9"}},
		{"header size", func(b []byte) []byte { le.PutUint32(b[offHeaderSize:], 1000); return b }, ErrInvalidHeader, []string{"header_size 1000", "1152"}},
		{"line size", func(b []byte) []byte { le.PutUint32(b[offLineSize:], 64); return b }, ErrInvalidHeader, []string{"line_size 64"}},
		{"slot count", func(b []byte) []byte { le.PutUint32(b[offSlotCount:], 3); return b }, ErrInvalidHeader, []string{"slot_count 3"}},
		{"unknown flags", func(b []byte) []byte { le.PutUint32(b[offFlags:], 0x10); return b }, ErrInvalidHeader, []string{"flags 0x10", "unknown bits 0x10"}},
		{"capacity not a power of two", func(b []byte) []byte { le.PutUint64(b[offCapacity:], 1000); return b }, ErrInvalidHeader, []string{"capacity 1000"}},
		{"capacity too small", func(b []byte) []byte { le.PutUint64(b[offCapacity:], 32); return b }, ErrInvalidHeader, []string{"capacity 32"}},
		{"capacity past the region", func(b []byte) []byte { le.PutUint64(b[offCapacity:], 1<<20); return b }, ErrInvalidHeader, []string{"capacity 1048576", "runs past the end of the 8192-byte region"}},
		{"data offset inside the header", func(b []byte) []byte { le.PutUint64(b[offDataOffset:], 1024); return b }, ErrInvalidHeader, []string{"data_offset 1024"}},
		{"data offset misaligned", func(b []byte) []byte { le.PutUint64(b[offDataOffset:], 4100); return b }, ErrInvalidHeader, []string{"data_offset 4100", "multiple of 128"}},
		{"unknown state", func(b []byte) []byte { le.PutUint32(b[offState:], 9); return b }, ErrInvalidHeader, []string{"state 9"}},
		{"closed", func(b []byte) []byte { le.PutUint32(b[offState:], stateClosed); return b }, fs.ErrClosed, []string{"state 3"}},
		{"poisoned", func(b []byte) []byte { le.PutUint32(b[offState:], statePoisoned); return b }, ErrCorrupt, []string{"state 4"}},
		{"half-made", func(b []byte) []byte { le.PutUint32(b[offState:], stateInit); return b }, ErrInvalidHeader, []string{"state 1 (init)", "half-made"}},
		{"never made", func(b []byte) []byte { clear(b); return b }, ErrInvalidHeader, []string{"state 0 (empty)", "no pipe"}},
		{"locks without a file", func(b []byte) []byte {
			le.PutUint32(b[offFlags:], flagLocks)
			le.PutUint64(b[offLockBase:], 1<<62)
			return b
		}, ErrInvalidHeader, []string{"flags 0x1", "has no file"}},
		{"lock base out of range", func(b []byte) []byte { le.PutUint32(b[offFlags:], flagLocks); return b }, ErrInvalidHeader, []string{"lock_base 0x0"}},
		{"positions too far apart", func(b []byte) []byte { le.PutUint64(b[offTail:], 5000); return b }, ErrCorrupt, []string{"tail 5000", "head 0", "capacity 4096"}},
		{"too small", func(b []byte) []byte { return b[:100] }, ErrInvalidHeader, []string{"region is 100 bytes", "128-byte header"}},
		{"cut short", func(b []byte) []byte { return b[:4096] }, ErrInvalidHeader, []string{"runs past the end of the 4096-byte region"}},
		{"misaligned", func(b []byte) []byte {
			c := make([]byte, len(b)+4)
			copy(c[4:], b)
			return c[4:]
		}, ErrInvalidHeader, []string{"not 8-byte aligned"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.change(freshHeader(t, 4096))
			start := time.Now()
			_, err := OpenPipe(ioadapt.NewMemory(b), ReadyTimeout(50*time.Millisecond))
			wantErr(t, err, c.target, c.want...)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("refusing took %v", d)
			}
			var pe *fs.PathError
			if errors.As(err, &pe) && (pe.Op != "openpipe" || pe.Path != "memory") {
				t.Errorf("error op %q path %q, want openpipe and memory", pe.Op, pe.Path)
			}
		})
	}
	// A later minor version only adds what older peers may ignore.
	b := freshHeader(t, 4096)
	le.PutUint16(b[offMinor:], 7)
	p, err := OpenPipe(ioadapt.NewMemory(b))
	if err != nil {
		t.Fatalf("minor version 7: %v", err)
	}
	p.Close()
}

// TestOpenWaitsForCreator opens a region before its pipe exists: OpenPipe
// waits, and succeeds once another goroutine lays it out.
func TestOpenWaitsForCreator(t *testing.T) {
	buf := make([]byte, PipeSize(4096))
	done := make(chan error, 1)
	go func() {
		p, err := OpenPipe(ioadapt.NewMemory(buf), ReadyTimeout(time.Minute))
		if err == nil {
			p.Close()
		}
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	p, err := CreatePipe(ioadapt.NewMemory(buf))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := <-done; err != nil {
		t.Fatalf("OpenPipe while the pipe was being made: %v", err)
	}
}

// TestCreateErrors covers the refusals of CreatePipe and its named form.
func TestCreateErrors(t *testing.T) {
	b := freshHeader(t, 4096)
	_, err := CreatePipe(ioadapt.NewMemory(b))
	wantErr(t, err, fs.ErrExist, "already holds an ipc object", "state 2")

	junk := bytes.Repeat([]byte{0xab}, int(PipeSize(4096)))
	_, err = CreatePipe(ioadapt.NewMemory(junk))
	wantErr(t, err, fs.ErrExist, "not zeroed", "0xabababab")

	_, err = CreatePipe(ioadapt.NewMemory(make([]byte, 4096)))
	wantErr(t, err, fs.ErrInvalid, "4096 bytes is too small")

	_, err = CreatePipe(ioadapt.NewMemory(make([]byte, PipeSize(4096))), Capacity(3000))
	wantErr(t, err, fs.ErrInvalid, "capacity 3000")

	_, err = CreatePipe(ioadapt.NewMemory(make([]byte, PipeSize(4096))), Capacity(8192))
	wantErr(t, err, fs.ErrInvalid, "capacity 8192", "needs 12288")

	name := segName(t)
	s, err := shm.Create(name, PipeSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close() // on Windows the segment goes with its last handle
	ro, err := shm.Open(name, shm.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, err = CreatePipe(ro)
	wantErr(t, err, ioadapt.ErrReadOnly, "writable")
	_, err = OpenPipe(ro)
	wantErr(t, err, ioadapt.ErrReadOnly, "writable")

	_, err = CreateNamedPipe(segName(t), 1000)
	wantErr(t, err, fs.ErrInvalid, "capacity 1000")
	_, err = CreateNamedPipe(name, 4096)
	wantErr(t, err, fs.ErrExist)
	_, err = OpenNamedPipe(testPrefix + "missing")
	wantErr(t, err, fs.ErrNotExist)
}

// TestOpenDataOffset opens pipes whose creator (another implementation
// of the layout) put the ring past the header page, at a data_offset of
// 8192: bytes and records go to and come from the ring there, in both
// directions, and the page between is never touched.
func TestOpenDataOffset(t *testing.T) {
	const capacity, dataOff = 4096, 8192
	le := binary.LittleEndian
	for _, messages := range []bool{false, true} {
		t.Run(map[bool]string{false: "bytes", true: "messages"}[messages], func(t *testing.T) {
			buf := make([]byte, dataOff+capacity)
			var opts []Option
			if messages {
				opts = append(opts, Messages())
			}
			p, err := CreatePipe(ioadapt.NewMemory(buf), append(opts, Capacity(capacity))...)
			if err != nil {
				t.Fatal(err)
			}
			p.Close()
			le.PutUint64(buf[offDataOffset:], dataOff)
			filler := bytes.Repeat([]byte{0xee}, dataOff-pipeDataOffset)
			copy(buf[pipeDataOffset:], filler)
			// What a foreign writer committed before this process joined.
			if messages {
				le.PutUint64(buf[dataOff:], frameWord(5, frameRecord))
				copy(buf[dataOff+frameHeader:], "early")
				le.PutUint64(buf[offTail:], frameSize(5))
			} else {
				copy(buf[dataOff:], "early")
				le.PutUint64(buf[offTail:], 5)
			}
			p, err = OpenPipe(ioadapt.NewMemory(buf))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			w, r := ends(t, p)
			got := make([]byte, 64)
			if n, err := r.Read(got); err != nil || string(got[:n]) != "early" {
				t.Fatalf("read %q, %v; want the foreign writer's %q", got[:n], err, "early")
			}
			if _, err := w.Write([]byte("later")); err != nil {
				t.Fatal(err)
			}
			at := dataOff + 5
			if messages {
				at = dataOff + int(frameSize(5)) + frameHeader
				if h := le.Uint64(buf[at-frameHeader:]); h != frameWord(5, frameRecord) {
					t.Errorf("frame header %#x at offset %d, want a record of 5 bytes", h, at-frameHeader)
				}
			}
			if s := string(buf[at : at+5]); s != "later" {
				t.Errorf("offset %d holds %q, want the write %q", at, s, "later")
			}
			if n, err := r.Read(got); err != nil || string(got[:n]) != "later" {
				t.Fatalf("read %q, %v; want %q", got[:n], err, "later")
			}
			if !bytes.Equal(buf[pipeDataOffset:dataOff], filler) {
				t.Errorf("the bytes between the header page and data_offset %d were written", dataOff)
			}
		})
	}
}

// TestDataOffsetWrapRefused: a data_offset so large that data_offset +
// capacity wraps around 2^64 to a small number is refused, not used as
// the ring's (negative) offset.
func TestDataOffsetWrapRefused(t *testing.T) {
	buf := make([]byte, PipeSize(4096))
	p, err := CreatePipe(ioadapt.NewMemory(buf), Capacity(4096))
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	binary.LittleEndian.PutUint64(buf[offDataOffset:], 0xFFFFFFFFFFFFF000)
	p, err = OpenPipe(ioadapt.NewMemory(buf))
	if err == nil {
		p.Close()
		t.Fatal("OpenPipe took a data_offset that wraps around with the capacity")
	}
	if !errors.Is(err, ErrInvalidHeader) || !strings.Contains(err.Error(), "data_offset 18446744073709547520") {
		t.Errorf("OpenPipe: %v; want an error wrapping ErrInvalidHeader that names the data_offset", err)
	}
}
