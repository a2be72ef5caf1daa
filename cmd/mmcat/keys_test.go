//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/sysv"
)

// ipcmkKeyed makes a 4096-byte segment with util-linux's ipcmk, fills it
// with a text naming it, and returns its id, key and content; ipcrm -m
// removes it when the test ends. It skips without ipcmk and ipcrm.
func ipcmkKeyed(t *testing.T) (int, sysv.Key, []byte) {
	t.Helper()
	for _, tool := range []string{"ipcmk", "ipcrm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	out, err := exec.Command("ipcmk", "-M", "4096", "-p", "0600").CombinedOutput()
	if err != nil {
		t.Fatalf("ipcmk: %v: %s", err, out)
	}
	f := strings.Fields(string(out)) // "Shared memory id: 42"
	if len(f) == 0 {
		t.Fatalf("ipcmk said %q", out)
	}
	id, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		t.Fatalf("ipcmk said %q", out)
	}
	t.Cleanup(func() {
		// Only if it is still there: ipcrm -M may have removed it.
		if seg, err := sysv.AttachID(id, sysv.ReadOnly()); err == nil {
			seg.Close()
			if out, err := exec.Command("ipcrm", "-m", strconv.Itoa(id)).CombinedOutput(); err != nil {
				t.Errorf("ipcrm -m %d: %v: %s", id, err, out)
			}
		}
	})
	seg, err := sysv.AttachID(id)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	data := make([]byte, 4096)
	copy(data, fmt.Sprintf("made by ipcmk: id %d key %v\n", id, seg.Key()))
	if _, err := seg.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	return id, seg.Key(), data
}

// TestSysvKeySpellings reads segments that ipcmk made, with keys on both
// sides of 0x7fffffff, by each way of writing their keys that ipcrm -M
// takes; writes one by the key in unsigned decimal and replaces it by the
// same key in signed decimal; and checks the messages for keys out of
// range and for missing keys, which name them as ipcs -m does.
func TestSysvKeySpellings(t *testing.T) {
	requireSysv(t)
	var low, high bool
	for tries := 0; !low || !high; tries++ {
		if tries == 64 { // ipcmk draws keys at random: 2^-63 odds
			t.Fatal("64 segments from ipcmk, and no key on each side of 0x7fffffff")
		}
		id, key, data := ipcmkKeyed(t)
		if key == sysv.Private || (key < 0 && high) || (key > 0 && low) {
			continue
		}
		low, high = low || key > 0, high || key < 0
		u := uint32(key)
		spellings := []string{
			key.String(), // as ipcs -m prints it
			fmt.Sprintf("0X%X", u),
			strconv.FormatUint(uint64(u), 10), // as $((0x...)) gives it
			fmt.Sprintf("0%o", u),
			" +" + strconv.FormatUint(uint64(u), 10),
		}
		if key < 0 {
			spellings = append(spellings,
				strconv.Itoa(int(key)), // as /proc/sysvipc/shm prints it
				fmt.Sprintf("-0x%x", -int64(key)))
		}
		for _, s := range spellings {
			if got := mustRun(t, nil, "sysv:"+s); !bytes.Equal(got, data) {
				t.Errorf("mmcat sysv:%q (id %d) read %q", s, id, bytes.TrimRight(got, "\x00"))
			}
		}
		// Removed, its key makes an error that names it as ipcs -m did.
		shown := ipcsKey(t, id)
		if out, err := exec.Command("ipcrm", "-m", strconv.Itoa(id)).CombinedOutput(); err != nil {
			t.Fatalf("ipcrm -m %d: %v: %s", id, err, out)
		}
		dec := strconv.FormatUint(uint64(u), 10)
		r := mmcat(t, nil, "sysv:"+dec)
		if want := "mmcat: sysv:" + dec + ": key " + shown + ": no segment has this key"; r.code != 1 || !strings.Contains(string(r.stderr), want) {
			t.Errorf("mmcat sysv:%s after ipcrm: exit %d, stderr %q; want 1, %q", dec, r.code, r.stderr, want)
		}
	}

	// A key beyond 32 bits is refused, not reduced as ipcrm -M does.
	for _, s := range []string{"4294967297", "-2147483649"} {
		r := mmcat(t, nil, "sysv:"+s)
		if want := fmt.Sprintf("mmcat: sysv:%s: sysv: parse key %q: out of range", s, s); r.code != 1 || !strings.Contains(string(r.stderr), want) {
			t.Errorf("mmcat sysv:%s: exit %d, stderr %q; want 1, %q", s, r.code, r.stderr, want)
		}
	}

	// Key 0 names no segment, however it is written; the message says so
	// with the key as ipcs prints it, for sources and destinations alike.
	for _, args := range [][]string{{"sysv:-0"}, {"-o", "sysv:00", "-"}} {
		r := mmcat(t, strings.NewReader("x"), args...)
		if want := ": key 0x00000000: this key is IPC_PRIVATE, which names no segment"; r.code != 1 || !strings.Contains(string(r.stderr), want) {
			t.Errorf("mmcat %q: exit %d, stderr %q; want 1, %q", args, r.code, r.stderr, want)
		}
	}

	// Written to by its key above 0x7fffffff in decimal, replaced by the
	// same key written as C prints it.
	key := sysvKey(t)
	for tries := 0; key > 0; tries++ {
		if tries == 64 {
			t.Fatal("sysvKey gave no key above 0x7fffffff in 64 tries")
		}
		key = sysvKey(t)
	}
	dec := strconv.FormatUint(uint64(uint32(key)), 10)
	mustRun(t, []byte("by its unsigned decimal\n"), "-o", "sysv:"+dec)
	mustRun(t, []byte("by its signed decimal\n"), "--force", "-o", "sysv:"+strconv.Itoa(int(key)))
	seg, err := sysv.Open(key, sysv.ReadOnly())
	if err != nil {
		t.Fatalf("after mmcat -o sysv:%s: %v", dec, err)
	}
	got := make([]byte, seg.Size())
	_, _ = seg.ReadAt(got, 0)
	seg.Close()
	if string(got) != "by its signed decimal\n" {
		t.Errorf("segment %v holds %q, want what -o sysv:%d wrote", key, got, int(key))
	}
}

// ipcsKey returns the key column of ipcs -m for the id.
func ipcsKey(t *testing.T, id int) string {
	t.Helper()
	out, err := exec.Command("ipcs", "-m").CombinedOutput()
	if err != nil {
		t.Fatalf("ipcs -m: %v: %s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == strconv.Itoa(id) {
			return f[0]
		}
	}
	t.Fatalf("id %d not in ipcs -m:\n%s", id, out)
	return ""
}

// TestShmNameMessages checks that mmcat passes on what is wrong with a
// shm: name as given.
func TestShmNameMessages(t *testing.T) {
	for name, want := range map[string]string{
		"../x":  `mmcat: shm:../x: name "../x" contains a slash and a ".." element`,
		"sem.x": `mmcat: shm:sem.x: name "sem.x" starts with "sem.", the prefix of glibc's named semaphores`,
	} {
		r := mmcat(t, nil, "shm:"+name)
		if r.code != 1 || !strings.Contains(string(r.stderr), want) {
			t.Errorf("mmcat shm:%s: exit %d, stderr %q; want 1, %q", name, r.code, r.stderr, want)
		}
	}
}
