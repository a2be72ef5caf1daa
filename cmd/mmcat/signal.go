package main

import (
	"os"
	"os/signal"
	"sync"
)

// signalCleanup ends mmcat when a signal that ends cat comes, in every
// run: the Go runtime would ignore most of them (see interruptSignals).
// For an unfinished -o it first removes the temporary file of a replace,
// or a segment being filled; then the signal ends the process as it would
// have ended cat, so the exit status still tells the parent which signal
// it was (raise). SIGKILL cannot be caught: what it leaves is removed by
// the next -o to the same DEST (see RemoveLeftovers in toFile).
type signalCleanup struct {
	// mu guards undo, and is held while DEST is being published, so that
	// a signal is handled before the publication starts or after it is
	// complete, never in the middle.
	mu   sync.Mutex
	undo func() // what to remove if a signal comes now; nil: nothing
	ch   chan os.Signal
	done chan struct{}
}

// catchSignals starts watching for the signals that end a run
// (interruptSignals). A SIGHUP or SIGINT that was ignored when mmcat
// started, as nohup ignores SIGHUP, stays ignored; for the others the Go
// runtime cannot tell (it installs its own handler over an inherited
// SIG_IGN and keeps no record that signal.Ignored can read), so they end
// mmcat even then (doc.go). A signal blocked when mmcat started is not
// watched, so that it stays blocked and pending, as it does for cat,
// where blockedAtStart can tell.
func catchSignals() *signalCleanup {
	c := &signalCleanup{ch: make(chan os.Signal, 1), done: make(chan struct{})}
	var sigs []os.Signal
	for _, s := range interruptSignals {
		if !signal.Ignored(s) && !blockedAtStart(s) {
			sigs = append(sigs, s)
		}
	}
	if len(sigs) == 0 {
		return c
	}
	signal.Notify(c.ch, sigs...)
	go func() {
		select {
		case s := <-c.ch:
			// Never unlocked: the process ends here.
			c.mu.Lock()
			if c.undo != nil {
				c.undo()
			}
			raise(s)
		case <-c.done:
		}
	}()
	return c
}

// making runs fn, which makes what a signal must then remove, with
// signals held off, and records the undo that fn returns: a signal that
// comes while fn runs is handled once undo is known.
func (c *signalCleanup) making(fn func() (undo func(), err error)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	undo, err := fn()
	if err == nil {
		c.undo = undo
	}
	return err
}

// discard runs the recorded undo now, as a failed run must, and forgets it.
func (c *signalCleanup) discard() {
	c.mu.Lock()
	if c.undo != nil {
		c.undo()
	}
	c.undo = nil
	c.mu.Unlock()
}

// publish runs fn, which makes the output visible (or fails and removes
// it), with signals held off; afterwards there is nothing left to undo.
func (c *signalCleanup) publish(fn func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := fn()
	c.undo = nil
	return err
}

// stop ends the watch: signals take their default action again.
func (c *signalCleanup) stop() {
	signal.Stop(c.ch)
	close(c.done)
}
