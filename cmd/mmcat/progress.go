package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressEvery is how often the progress line is redrawn at most.
const progressEvery = 100 * time.Millisecond

// progress is the one-line meter drawn on standard error while mmcat
// writes: the bytes written, of how many when that is known, the rate and
// the time left. It is redrawn in place with a carriage return, at most
// every progressEvery, and ended with a newline by finish. A nil
// *progress draws nothing.
type progress struct {
	w     io.Writer
	desc  string
	total int64 // -1: unknown
	done  int64
	start time.Time
	drawn time.Time // the last redraw
	width int       // of the last line drawn, to blank what it leaves
}

// newProgress returns a meter on w for total bytes (-1: unknown), labelled
// desc.
func newProgress(w io.Writer, total int64, desc string) *progress {
	now := time.Now()
	return &progress{w: w, desc: desc, total: total, start: now, drawn: now}
}

// add counts n more bytes written and redraws the line if it is due.
func (p *progress) add(n int64) {
	if p == nil {
		return
	}
	p.done += n
	if now := time.Now(); now.Sub(p.drawn) >= progressEvery {
		p.drawn = now
		p.draw(now)
	}
}

// finish draws the line a last time and ends it.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.draw(time.Now())
	fmt.Fprintln(p.w)
}

// draw writes the line for the count so far.
func (p *progress) draw(now time.Time) {
	var b strings.Builder
	b.WriteString("\r")
	if p.desc != "" {
		b.WriteString(p.desc + " ")
	}
	if p.total >= 0 {
		pct := 100.0
		if p.total > 0 {
			pct = 100 * float64(min(p.done, p.total)) / float64(p.total)
		}
		const cells = 30
		full := int(pct * cells / 100)
		fmt.Fprintf(&b, "%3.0f%% |%s%s| %s / %s", pct,
			strings.Repeat("█", full), strings.Repeat(" ", cells-full), siBytes(p.done), siBytes(p.total))
	} else {
		b.WriteString(siBytes(p.done))
	}
	if secs := now.Sub(p.start).Seconds(); secs > 0 {
		rate := float64(p.done) / secs
		fmt.Fprintf(&b, ", %s/s", siBytes(int64(rate)))
		if p.total > p.done && rate > 0 {
			left := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
			fmt.Fprintf(&b, ", %s left", left.Round(time.Second))
		}
	}
	line := b.String()
	n := len([]rune(line))
	if n < p.width {
		line += strings.Repeat(" ", p.width-n)
	}
	p.width = n
	io.WriteString(p.w, line)
}

// siBytes formats n bytes in decimal units, as "480 MB".
func siBytes(n int64) string {
	const units = "kMGTPE"
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/1000, 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	return fmt.Sprintf("%.1f %cB", v, units[i])
}
