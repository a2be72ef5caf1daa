package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgressLine checks the meter's line: the share done, the counts in
// decimal units, a shorter line blanking what a longer one left, and the
// newline that ends it.
func TestProgressLine(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, 2_000_000, "out")
	p.start = p.start.Add(-time.Second)
	p.done = 1_500_000
	p.draw(time.Now())
	first := out.String()
	for _, want := range []string{"\rout ", " 75% |", "| 1.5 MB / 2.0 MB", "MB/s", "left"} {
		if !strings.Contains(first, want) {
			t.Errorf("line %q lacks %q", first, want)
		}
	}
	out.Reset()
	p.total = -1
	p.draw(time.Now())
	second := out.String()
	if strings.Contains(second, "%") || len([]rune(second)) != len([]rune(first)) {
		t.Errorf("line of an unknown total %q: want no share, padded to the %d runes of %q", second, len([]rune(first)), first)
	}
	out.Reset()
	p.finish()
	if !strings.HasSuffix(out.String(), "\n") {
		t.Errorf("finish wrote %q, want a line ending in a newline", out.String())
	}
	var nilMeter *progress
	nilMeter.add(1) // draws nothing, and does not crash
	nilMeter.finish()
}

func TestSIBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 1_048_576: "1.0 MB", 1 << 30: "1.1 GB", 5e15: "5.0 PB"} {
		if got := siBytes(n); got != want {
			t.Errorf("siBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
