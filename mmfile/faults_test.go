//go:build faults && linux

// The fault-and-abuse suite of mmfile (make test-faults): real processes,
// real files, many rounds. Each scenario logs a line
// "faults: runs=N failures=F" that the suite's report collects.

package mmfile_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/faulttest"
	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// TestFaultTruncateFile shrinks a mapped file from another process while
// goroutines here read, write and io.Copy through the mapping: every call
// succeeds or fails with an error naming the file and the fault; the
// process lives; once the file grows back, a fresh mapping reads it whole.
func TestFaultTruncateFile(t *testing.T) {
	ty := faulttest.New(t)
	page := os.Getpagesize()
	data := testkit.Pattern(16 * page)
	path := writeFile(t, "shrinking", data)
	for round := range testkit.EnvInt("MMAPKIT_FAULT_ROUNDS", 200) {
		ty.Round(truncateRound(path, data, page, round))
	}
}

func truncateRound(path string, data []byte, page, round int) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	size := (round * 997) % (len(data) / 2)
	if err := faulttest.HammerDuring(f, data, path, child("truncate", path, "MMAPKIT_TEST_SIZE="+strconv.Itoa(size))); err != nil {
		return err
	}
	// The writers went on after the truncation, and a write that lands
	// past the new end extends the file again, by pwrite, as an os.File
	// write would: what the file holds now is the oracle. Past its end, a
	// read faults rather than crashing; inside it, it reads the file's
	// bytes. (In the page that holds the new end, the mapping shows zeros
	// past it: no fault to tell.)
	want, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	last := int64(len(data) - 1)
	p := make([]byte, 1)
	_, err = f.ReadAt(p, last)
	switch {
	case int64(len(want)) > last:
		if err != nil || p[0] != want[last] {
			return fmt.Errorf("read of byte %d of a file of %d bytes: %v, %q; want %q", last, len(want), err, p, want[last:last+1])
		}
	case int64(len(want)) <= last/int64(page)*int64(page):
		if !errors.Is(err, ioadapt.ErrFault) {
			return fmt.Errorf("read past the truncation to %d bytes: %v", len(want), err)
		}
	}
	// A copy asks where the file ends now, and copies what it holds.
	var copied bytes.Buffer
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(&copied, f); err != nil || !bytes.Equal(copied.Bytes(), want) {
		return fmt.Errorf("io.Copy after the truncation: %v; %d bytes where the file holds %d", err, copied.Len(), len(want))
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	g, err := mmfile.Open(path)
	if err != nil {
		return err
	}
	defer g.Close()
	var got bytes.Buffer
	if _, err := io.Copy(&got, g); err != nil || !bytes.Equal(got.Bytes(), data) {
		return fmt.Errorf("fresh mapping after regrowth: %v", err)
	}
	return nil
}

// TestFaultFullDisk fills a small tmpfs through growing files, many times:
// an ENOSPC error at the write that needed the space, no SIGBUS later, and
// the bytes written before intact.
func TestFaultFullDisk(t *testing.T) {
	ty := faulttest.New(t)
	dir := testkit.SmallTmpfs(t, 2<<20)
	for round := range 200 {
		ty.Round(fullDiskRound(filepath.Join(dir, "f"+strconv.Itoa(round)), round))
		_ = os.Remove(filepath.Join(dir, "f"+strconv.Itoa(round)))
	}
}

func fullDiskRound(path string, round int) error {
	f, err := mmfile.Create(path, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{byte('a' + round%26)}, 1000+round*4111)
	var written int64
	for {
		var n int
		n, err = f.Write(chunk)
		written += int64(n) // a Write cut short by the full disk counts what it wrote
		if err != nil {
			break
		}
	}
	if !errors.Is(err, unix.ENOSPC) {
		return fmt.Errorf("write on a full tmpfs: %v", err)
	}
	if f.Size() != written {
		return fmt.Errorf("size %d after ENOSPC; want %d", f.Size(), written)
	}
	// Every byte of the file is touchable: no SIGBUS lurks.
	if err := f.Access(func(b []byte) error {
		for i := range b {
			b[i] ^= 0
		}
		return nil
	}); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	got, err := os.ReadFile(path)
	if err != nil || int64(len(got)) != written || bytes.Count(got, chunk[:1]) != len(got) {
		return fmt.Errorf("file after ENOSPC: %d bytes, want %d intact (%v)", len(got), written, err)
	}
	return nil
}

// TestFaultCrashAfterSync kills a writer at random points, hundreds of
// times: every record it had synced before its last report is in the file.
func TestFaultCrashAfterSync(t *testing.T) {
	ty := faulttest.New(t)
	path := filepath.Join(t.TempDir(), "records")
	for round := range testkit.EnvInt("MMAPKIT_CRASH_ROUNDS", 200) {
		ty.Round(crashSyncRound(path, round))
	}
}

func crashSyncRound(path string, round int) error {
	_ = os.Remove(path)
	cmd := child("sync-writer", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	lines := bufio.NewScanner(out)
	synced := -1
	deadline := time.After(time.Duration(1+round%13) * time.Millisecond)
read:
	for lines.Scan() {
		n, err := strconv.Atoi(lines.Text())
		if err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return fmt.Errorf("child said %q", lines.Text())
		}
		synced = n
		select {
		case <-deadline:
			break read
		default:
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	got, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for i := 0; i <= synced; i++ {
		if int64(len(got)) < int64(i+1)*recordSize || !bytes.Equal(got[int64(i)*recordSize:int64(i+1)*recordSize], record(i)) {
			return fmt.Errorf("record %d of %d synced ones is missing or wrong", i, synced+1)
		}
	}
	return nil
}

// TestFaultCrashReplace kills processes in the middle of atomic replaces,
// hundreds of times: the target is always one whole version, and every
// temporary file left behind is found and removed.
func TestFaultCrashReplace(t *testing.T) {
	ty := faulttest.New(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	if err := os.WriteFile(path, versionContent(0), 0o644); err != nil {
		t.Fatal(err)
	}
	for round := range testkit.EnvInt("MMAPKIT_CRASH_ROUNDS", 300) {
		ty.Round(replaceRound(path, round))
	}
	if _, err := mmfile.RemoveLeftovers(path); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "target")
}

func replaceRound(path string, round int) error {
	cmd := child("replace-loop", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("child did not start: %q, %v", line, err)
	}
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	got, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, versionContent(0)) && !bytes.Equal(got, versionContent(1)) {
		return fmt.Errorf("round %d: target holds a mix of %d bytes", round, len(got))
	}
	return nil
}

// TestFaultOpenCloseLeak opens and closes 100 000 mappings: no growth in
// descriptors or mappings.
func TestFaultOpenCloseLeak(t *testing.T) {
	ty := faulttest.New(t)
	path := writeFile(t, "small", testkit.Pattern(8192))
	fds, maps := testkit.FDs(t), testkit.Maps(t)
	p := make([]byte, 16)
	for i := range testkit.EnvInt("MMAPKIT_LEAK_ROUNDS", 100000) {
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		if err == nil {
			_, err = f.ReadAt(p, int64(i%8000))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		ty.Round(err)
	}
	faulttest.CheckNoGrowth(t, fds, maps, 0)
}

// TestFaultCloseRace closes mappings while goroutines read, write, copy and
// grow them: no crash, and the only error is fs.ErrClosed.
func TestFaultCloseRace(t *testing.T) {
	ty := faulttest.New(t)
	path := writeFile(t, "racy", testkit.Pattern(1<<16))
	for range 200 {
		ty.Round(closeRaceRound(path))
	}
}

func closeRaceRound(path string) error {
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := make([]byte, 512)
			for i := 0; ; i++ {
				var err error
				switch (g + i) % 4 {
				case 0:
					_, err = f.ReadAt(p, int64(i%100)*512)
				case 1:
					_, err = f.WriteAt(p, 1<<15+int64(g)*512)
				case 2:
					_, err = io.Copy(io.Discard, io.NewSectionReader(f, 0, 1<<14))
				case 3:
					_, err = f.WriteAt(p[:1], f.Size()) // grows: remaps
				}
				if err != nil {
					if !errors.Is(err, fs.ErrClosed) {
						errs <- err
					}
					return
				}
			}
		}()
	}
	time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
	cerr := f.Close()
	wg.Wait()
	close(errs)
	if cerr != nil {
		return cerr
	}
	if err := <-errs; err != nil {
		return fmt.Errorf("during Close: %v", err)
	}
	return os.Truncate(path, 1<<16)
}

// TestFaultHostileInput tries the entry points with the values an attacker
// or a careless caller would pass: each gives a clear error, nothing
// crashes, nothing is written outside the directory.
func TestFaultHostileInput(t *testing.T) {
	ty := faulttest.New(t)
	dir := t.TempDir()
	path := writeFile(t, "victim", []byte("0123456789"))
	long := filepath.Join(dir, strings.Repeat("x", 300))
	expectErr := func(what string, err error) {
		t.Helper()
		if err == nil {
			ty.Round(fmt.Errorf("%s: no error", what))
			return
		}
		if strings.TrimSpace(err.Error()) == "" {
			ty.Round(fmt.Errorf("%s: empty error", what))
			return
		}
		ty.Round(nil)
	}
	open := func(what string, f *mmfile.File, err error) {
		t.Helper()
		if f != nil {
			f.Close()
		}
		expectErr(what, err)
	}
	for _, r := range [][2]int64{{-1, 1}, {0, -1}, {math.MaxInt64, 1}, {1, math.MaxInt64}, {math.MaxInt64, math.MaxInt64}, {5, 6}, {11, 0}, {math.MinInt64, 0}} {
		f, err := mmfile.Open(path, mmfile.Range(r[0], r[1]))
		open(fmt.Sprintf("Range(%d, %d)", r[0], r[1]), f, err)
	}
	for _, name := range []string{"a\x00b", long, filepath.Join(dir, "missing", "f")} {
		f, err := mmfile.Open(name)
		open("Open("+strconv.Quote(name[:min(len(name), 20)])+")", f, err)
		p, err := mmfile.NewPending(name, 1)
		if p != nil {
			p.Cleanup()
		}
		expectErr("NewPending", err)
	}
	for _, size := range []int64{-1, math.MinInt64, math.MaxInt64} {
		f, err := mmfile.Create(filepath.Join(dir, "sized"), size)
		open(fmt.Sprintf("Create(%d)", size), f, err)
	}
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, off := range []int64{-1, math.MinInt64, math.MaxInt64, math.MaxInt64 - 1} {
		_, err := f.WriteAt([]byte("xy"), off)
		expectErr(fmt.Sprintf("WriteAt(%d)", off), err)
		_, err = f.ReadAt(make([]byte, 1), off)
		if off >= 0 && err == io.EOF {
			err = errors.New("EOF") // the documented answer past the end
		}
		expectErr(fmt.Sprintf("ReadAt(%d)", off), err)
		if _, err = f.Seek(off, io.SeekStart); off >= 0 {
			ty.Round(err) // any position past the end is allowed
		} else {
			expectErr(fmt.Sprintf("Seek(%d)", off), err)
		}
	}
	if _, err := f.Seek(math.MaxInt64, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	_, err = f.Seek(1, io.SeekCurrent)
	expectErr("Seek past MaxInt64", err)
	_, err = f.Write([]byte("x"))
	expectErr("Write at MaxInt64", err)
	for _, size := range []int64{-1, math.MaxInt64} {
		expectErr(fmt.Sprintf("Truncate(%d)", size), f.Truncate(size))
	}
	for _, r := range [][2]int64{{-1, 1}, {1, -1}, {math.MaxInt64, 1}, {1, math.MaxInt64}} {
		_, err := f.Section(r[0], r[1])
		expectErr(fmt.Sprintf("Section(%d, %d)", r[0], r[1]), err)
		expectErr(fmt.Sprintf("SyncRange(%d, %d)", r[0], r[1]), syncRangeErr(f, r[0], r[1]))
	}
	if got, _ := os.ReadFile(path); string(got) != "0123456789" {
		t.Errorf("victim file changed: %q", got)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "sized" {
			t.Errorf("hostile input left %q behind", e.Name())
		}
	}
}

// syncRangeErr returns SyncRange's error, or one saying that a range the
// method clips to the file was accepted, as documented.
func syncRangeErr(f *mmfile.File, off, n int64) error {
	err := f.SyncRange(off, n)
	if err == nil && off >= 0 && n >= 0 {
		return errors.New("clipped")
	}
	return err
}

// TestFaultManyProcesses has processes write disjoint ranges of one file
// through their own mappings while others read it: the final contents are
// exactly what was written.
func TestFaultManyProcesses(t *testing.T) {
	ty := faulttest.New(t)
	const writers, span = 6, 1 << 16
	for round := range 100 {
		path := filepath.Join(t.TempDir(), "shared")
		f, err := mmfile.Create(path, writers*span)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		var cmds []*exec.Cmd
		for w := range writers {
			cmds = append(cmds, child("range-writer", path, testkit.SlotEnv(w, span, round)...))
		}
		for range 2 {
			cmds = append(cmds, child("mapcat", path))
		}
		for _, c := range cmds {
			c.Stdout = io.Discard
		}
		err1 := testkit.RunAll(cmds)
		if err1 == nil {
			got, _ := os.ReadFile(path)
			for w := range writers {
				if want := testkit.SlotContent(w, span, round); !bytes.Equal(got[w*span:(w+1)*span], want) {
					err1 = fmt.Errorf("slot %d differs", w)
					break
				}
			}
		}
		ty.Round(err1)
	}
}
