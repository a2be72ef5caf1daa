package testkit

import (
	"net"
	"path/filepath"
	"testing"
)

// ConnectedSockets connects a stream socket of network ("tcp", on the
// loopback, or "unix", in a temporary directory) through a listener and
// returns the dialled end and the accepted one, both closed at the end
// of the test.
func ConnectedSockets(t testing.TB, network string) (dialled, accepted net.Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "sock")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		conns <- c
	}()
	dialled, err = net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dialled.Close() })
	if accepted = <-conns; accepted == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { accepted.Close() })
	return dialled, accepted
}
