package testkit

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Pattern returns n bytes that differ at every offset within a page, so
// that a read from the wrong place shows.
func Pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// NonZero returns n bytes of which none is zero, so that a zero read
// back (a page the file no longer holds) is never data.
func NonZero(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i%251) + 1
	}
	return b
}

// TextPattern is n bytes of printable text that depend on seed and never
// hold a NUL, so that zeros in a file are padding, never data.
func TextPattern(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('!' + (i*7+i/251+seed*13)%94)
	}
	return b
}

// The environment variables that carry a slot writer's arguments.
const (
	slotEnv  = "MMAPKIT_TEST_SLOT"
	spanEnv  = "MMAPKIT_TEST_SPAN"
	roundEnv = "MMAPKIT_TEST_ROUND"
)

// SlotContent is what writer slot writes over its span bytes in the given
// round of a scenario where processes write disjoint slots of one
// region: each slot and round its own bytes.
func SlotContent(slot, span, round int) []byte {
	return bytes.Repeat([]byte{byte('A' + slot), byte('0' + round)}, span/2)
}

// SlotEnv is the environment that passes a slot writer its slot, span
// and round; SlotFromEnv reads it back in the child.
func SlotEnv(slot, span, round int) []string {
	return []string{slotEnv + "=" + strconv.Itoa(slot), spanEnv + "=" + strconv.Itoa(span), roundEnv + "=" + strconv.Itoa(round)}
}

// SlotFromEnv returns the slot, span and round that SlotEnv passed.
func SlotFromEnv() (slot, span, round int, err error) {
	var n [3]int
	for i, name := range []string{slotEnv, spanEnv, roundEnv} {
		if n[i], err = strconv.Atoi(os.Getenv(name)); err != nil {
			return 0, 0, 0, fmt.Errorf("slot writer: %s: %w", name, err)
		}
	}
	return n[0], n[1], n[2], nil
}

// WriteSlot writes slot's content for round at slot*span in w, in pieces
// of 512 bytes: many small writes, to race the other writers. span is a
// multiple of 512.
func WriteSlot(w io.WriterAt, slot, span, round int) error {
	content := SlotContent(slot, span, round)
	for i := 0; i < span; i += 512 {
		if _, err := w.WriteAt(content[i:i+512], int64(slot*span+i)); err != nil {
			return err
		}
	}
	return nil
}

// CheckSlots returns an error for the first of writers slots of r that
// does not hold what WriteSlot wrote in round.
func CheckSlots(r io.ReaderAt, writers, span, round int) error {
	got := make([]byte, span)
	for w := range writers {
		if _, err := r.ReadAt(got, int64(w*span)); err != nil || !bytes.Equal(got, SlotContent(w, span, round)) {
			return fmt.Errorf("slot %d differs (%v)", w, err)
		}
	}
	return nil
}
