//go:build linux

package ipc

import (
	"io"
	"testing"
)

// In-process benchmarks, goroutine to goroutine over heap memory; the
// two-process comparisons with OS pipes and sockets are in bench/.

func BenchmarkStream(b *testing.B) {
	for _, mode := range []WaitMode{Adaptive, SleepOnly} {
		b.Run("mode="+mode.String(), func(b *testing.B) {
			p := memPipe(b, 1<<20, WithWaitMode(mode))
			w, r := ends(b, p)
			buf := make([]byte, 64<<10)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			done := make(chan struct{})
			go func() {
				defer close(done)
				io.Copy(io.Discard, r)
			}()
			for b.Loop() {
				w.Write(buf)
			}
			w.Close()
			<-done
		})
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	for _, mode := range []WaitMode{Adaptive, SleepOnly, SpinOnly} {
		b.Run("mode="+mode.String(), func(b *testing.B) {
			aw, br := ends(b, memPipe(b, 1<<12), WithWaitMode(mode))
			bw, ar := ends(b, memPipe(b, 1<<12), WithWaitMode(mode))
			go func() {
				buf := make([]byte, 64)
				for {
					if _, err := io.ReadFull(br, buf); err != nil {
						bw.Close()
						return
					}
					bw.Write(buf)
				}
			}()
			msg := make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				aw.Write(msg)
				io.ReadFull(ar, msg)
			}
			aw.Close()
		})
	}
}
