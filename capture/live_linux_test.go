//go:build linux

package capture

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncRecorder is a recorder whose result can be read from the test
// goroutine while Run delivers.
type syncRecorder struct {
	mu sync.Mutex
	r  recorder
}

type syncConn struct {
	mu *sync.Mutex
	c  *recConn
}

func (s *syncRecorder) Open(id ConnID) Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &syncConn{&s.mu, s.r.Open(id).(*recConn)}
}

func (c *syncConn) Data(d Dir, b []byte, ts time.Time) {
	c.mu.Lock()
	c.c.Data(d, b, ts)
	c.mu.Unlock()
}
func (c *syncConn) Gap(d Dir, n int, ts time.Time)    { c.mu.Lock(); c.c.Gap(d, n, ts); c.mu.Unlock() }
func (c *syncConn) Close(r CloseReason, ts time.Time) { c.mu.Lock(); c.c.Close(r, ts); c.mu.Unlock() }

// TestOpenLiveLoopback captures a real TCP exchange on the loopback
// interface with AF_PACKET and checks both byte streams, seen once each.
func TestOpenLiveLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: live capture needs root (CAP_NET_RAW); run the tests as root to cover OpenLive")
	}
	for _, iface := range []string{"lo", "any"} {
		t.Run(iface, func(t *testing.T) { liveLoopback(t, iface) })
	}
}

func liveLoopback(t *testing.T, iface string) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)

	src, err := OpenLive(iface, LiveOptions{Filter: Filter{Ports: []uint16{port}}, PollTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rec := &syncRecorder{}
	e := NewEngine(Config{Filter: Filter{Ports: []uint16{port}}}, rec)
	ctx, cancel := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- e.Run(ctx, src) }()

	request := "VER 1 MSNP8 CVR0\r\n" + strings.Repeat("MSG 2 N 5\r\nhello", 2000) // larger than a segment
	reply := "VER 1 MSNP8\r\n"
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		buf := make([]byte, len(request))
		if _, err := io.ReadFull(c, buf); err != nil {
			served <- err
			return
		}
		_, err = c.Write([]byte(reply))
		served <- err
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(reply))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := <-served; err != nil {
		t.Fatal(err)
	}

	// Wait (bounded) until the capture has seen both streams and the FINs.
	var conn *recConn
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		rec.mu.Lock()
		if len(rec.r.conns) == 1 && rec.r.conns[0].closed {
			conn = rec.r.conns[0]
		}
		rec.mu.Unlock()
		if conn != nil {
			break
		}
	}
	cancel()
	if err := <-runErr; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	if conn == nil {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		t.Fatalf("connection not seen closed; %d connections, stats %+v", len(rec.r.conns), e.Stats())
	}
	if conn.id.Server.Port() != port || conn.id.Client.String() != c.LocalAddr().String() {
		t.Errorf("connection %s, want %s-%s", conn.id.Flow(), c.LocalAddr(), ln.Addr())
	}
	if string(conn.data[ClientToServer]) != request || string(conn.data[ServerToClient]) != reply {
		t.Errorf("streams: %d/%d bytes, want %d/%d", len(conn.data[ClientToServer]), len(conn.data[ServerToClient]), len(request), len(reply))
	}
	if conn.reason != CloseFIN {
		t.Errorf("closed by %v, want fin", conn.reason)
	}
	st := e.Stats()
	if st.OverlapBytes != 0 || st.Gaps != 0 {
		t.Errorf("each packet must be seen once, without holes: %+v", st)
	}
	if ls, ok := src.(*LiveSource); ok {
		if _, drops, err := ls.KernelStats(); err != nil || drops != 0 {
			t.Errorf("kernel stats: %d drops, %v", drops, err)
		}
	}
}

func TestOpenLiveErrors(t *testing.T) {
	if _, err := OpenLive("no-such-interface0", LiveOptions{}); err == nil {
		t.Error("OpenLive of a missing interface succeeded")
	}
	if _, err := OpenLive("../etc", LiveOptions{}); err == nil {
		t.Error("OpenLive of a path succeeded")
	}
}
