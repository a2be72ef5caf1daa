package sysv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// ipcmkBothHalves makes segments of 4096 bytes with ipcmk until it has
// one whose key is at most 0x7fffffff and one whose key is above, and
// returns their ids and keys, low first. The others are removed at once.
func ipcmkBothHalves(t *testing.T) (ids [2]int, keys [2]Key) {
	t.Helper()
	var have [2]bool
	for tries := 0; !have[0] || !have[1]; tries++ {
		// ipcmk draws keys at random: 64 tries all in one half happen
		// once in 2^63 runs.
		if tries == 64 {
			t.Fatalf("64 segments from ipcmk, and no key on each side of 0x7fffffff")
		}
		id, key := ipcmk(t, 4096, "0600")
		half := 0
		if uint32(key) > 0x7fffffff {
			half = 1
		}
		if key == Private || have[half] {
			ipcrmID(t, id, key)
			continue
		}
		have[half], ids[half], keys[half] = true, id, key
	}
	return ids, keys
}

// TestIpcmkKeysEverySpelling reads segments that ipcmk made, with keys on
// both sides of 0x7fffffff, by every spelling of their keys that ipcrm -M
// takes, through ParseKey and Open; and checks that ipcs prints the keys
// as Key.String and errors do.
func TestIpcmkKeysEverySpelling(t *testing.T) {
	ids, keys := ipcmkBothHalves(t)
	for i, key := range keys {
		id := ids[i]
		want := make([]byte, 4096)
		copy(want, fmt.Sprintf("made by ipcmk: id %d key %v", id, key))
		w, err := AttachID(id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.WriteAt(want, 0); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if f := ipcsLine(t, id); f == nil || f[0] != key.String() {
			t.Errorf("ipcs -m line for id %d: %q, want the key %v first", id, f, key)
		}
		for _, s := range keySpellings(key) {
			k, err := ParseKey(s)
			if err != nil || k != key {
				t.Errorf("ParseKey(%q) = %v, %v, want %v (id %d)", s, k, err, key, id)
				continue
			}
			seg, err := Open(k, ReadOnly(), ExpectSize(4096))
			if err != nil {
				t.Errorf("Open(ParseKey(%q)): %v", s, err)
				continue
			}
			got, err := io.ReadAll(io.NewSectionReader(seg, 0, 1<<20))
			if err != nil || seg.ID() != id || seg.Key() != key || !bytes.Equal(got, want) {
				t.Errorf("Open(ParseKey(%q)): id %d key %v, read %q, %v; want id %d key %v and %q",
					s, seg.ID(), seg.Key(), bytes.TrimRight(got, "\x00"), err, id, key, bytes.TrimRight(want, "\x00"))
			}
			seg.Close()
		}
	}
	// Removed by ipcrm -M with its key in decimal, the upper one is gone,
	// and the error names its key as ipcs printed it.
	shown := ipcsLine(t, ids[1])
	if shown == nil {
		t.Fatalf("id %d not in ipcs -m", ids[1])
	}
	dec := strconv.FormatUint(uint64(uint32(keys[1])), 10)
	if out, err := exec.Command("ipcrm", "-M", dec).CombinedOutput(); err != nil {
		t.Fatalf("ipcrm -M %s: %v: %s", dec, err, out)
	}
	_, err := Open(keys[1])
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "key "+shown[0]+": no segment has this key") {
		t.Errorf("Open of the key that ipcrm -M %s removed: %v; want fs.ErrNotExist naming key %s", dec, err, shown[0])
	}
}

// TestParseKeyAgreesWithIpcrm gives util-linux's ipcrm -M every case of
// keyCases, each on a throwaway segment of ipcmk's with keys in both
// halves, and checks that ipcrm removes the segment exactly when ParseKey
// reads the spelling as its key, except for numbers beyond 32 bits,
// which ipcrm reads modulo 2^32 and ParseKey refuses. Every spelling is
// of the segment's own key, or one that ipcrm cannot parse at all, so no
// other segment is ever at risk.
func TestParseKeyAgreesWithIpcrm(t *testing.T) {
	total := [2]int{len(keyCases(1)), len(keyCases(-1))}
	var done [2]int
	for tries := 0; done[0] < total[0] || done[1] < total[1]; tries++ {
		// Each try lands in a half with even odds: 400 tries for some 70
		// cases never run short by chance.
		if tries == 400 {
			t.Fatalf("400 segments from ipcmk, and the cases of both halves are not done: %v of %v", done, total)
		}
		id, key := ipcmk(t, 4096, "0600")
		half := 0
		if key < 0 {
			half = 1
		}
		if key == Private || done[half] == total[half] {
			ipcrmID(t, id, key)
			continue
		}
		cases := keyCases(key)
		c := cases[done[half]]
		done[half]++
		cmd := exec.Command("ipcrm", "-M", c.s)
		cmd.Env = append(cmd.Environ(), "LC_ALL=C")
		out, err := cmd.CombinedOutput()
		_, still := inProcList(t, id)
		ipcrmID(t, id, key)
		if (err == nil) == still {
			t.Fatalf("ipcrm -M %q: %v: %s; yet the segment is still there: %v", c.s, err, out, still)
		}
		took := err == nil
		if !took && !strings.Contains(string(out), "failed to parse argument") {
			t.Errorf("ipcrm -M %q failed for another reason than parsing: %v: %s", c.s, err, out)
		}
		got, perr := ParseKey(c.s)
		switch c.reads {
		case readsAsKey, readsBad:
			want := c.reads == readsAsKey
			if took != want || (perr == nil) != want || want && got != key {
				t.Errorf("%s %q for key %v: ipcrm -M removed the segment: %v (%s); ParseKey = %v, %v",
					c.reads, c.s, key, took, bytes.TrimSpace(out), got, perr)
			}
		case readsWrap:
			if !took || !errors.Is(perr, strconv.ErrRange) {
				t.Errorf("%q for key %v: ipcrm -M removed the segment: %v (%s); ParseKey = %v, %v; want ipcrm to take it modulo 2^32 and ParseKey to refuse it as out of range",
					c.s, key, took, bytes.TrimSpace(out), got, perr)
			}
		}
	}
}
