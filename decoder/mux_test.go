package decoder

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"rcds/capture"
)

// fakeProto claims a connection whose bytes (either direction) contain
// "HELLO\n", refuses one that contains "NOPE", and records what its
// connections receive.
type fakeProto struct {
	name  string
	conns []*fakeConn
}

func (p *fakeProto) Name() string { return p.name }

func (p *fakeProto) Detect(_ capture.Dir, first []byte) Verdict {
	switch {
	case bytes.Contains(first, []byte("HELLO\n")):
		return Yes
	case bytes.Contains(first, []byte("NOPE")):
		return No
	}
	return NeedMore
}

func (p *fakeProto) NewConn(id capture.ConnID, emit Emitter) ConnDecoder {
	c := &fakeConn{emit: emit}
	p.conns = append(p.conns, c)
	return c
}

type fakeConn struct {
	emit   Emitter
	calls  []string
	closed bool
}

func (c *fakeConn) Data(dir capture.Dir, data []byte, ts time.Time) {
	c.calls = append(c.calls, fmt.Sprintf("data %s %q %d", dir, data, ts.Unix()))
	kind := KindMessage
	if bytes.HasPrefix(data, []byte("ERR")) {
		kind = KindError
	}
	c.emit.Emit(&Event{Kind: kind})
}

func (c *fakeConn) Gap(dir capture.Dir, n int, ts time.Time) {
	c.calls = append(c.calls, fmt.Sprintf("gap %s %d %d", dir, n, ts.Unix()))
}

func (c *fakeConn) Close(r capture.CloseReason, ts time.Time) {
	c.closed = true
	c.calls = append(c.calls, fmt.Sprintf("close %s", r))
}

var muxID = capture.ConnID{
	Client: netip.MustParseAddrPort("192.0.2.1:4000"),
	Server: netip.MustParseAddrPort("198.51.100.1:5000"),
}

func ts(s int64) time.Time { return time.Unix(s, 0) }

func TestMuxReplaysInArrivalOrder(t *testing.T) {
	p := &fakeProto{name: "fake"}
	var events []Kind
	m := NewMux(nil, EmitterFunc(func(e *Event) { events = append(events, e.Kind) }), p)
	c := m.Open(muxID)
	c.Data(capture.ClientToServer, []byte("ab"), ts(1))
	c.Data(capture.ServerToClient, []byte("xy"), ts(2))
	c.Gap(capture.ServerToClient, 3, ts(3))
	c.Data(capture.ClientToServer, []byte("HEL"), ts(4))
	if s := m.Stats(); s.Pending != 1 || len(p.conns) != 0 {
		t.Fatalf("decided too early: %+v", s)
	}
	c.Data(capture.ClientToServer, []byte("LO\nrest"), ts(5))
	c.Data(capture.ServerToClient, []byte("ERR after"), ts(6))
	c.Close(capture.CloseFIN, ts(7))
	if len(p.conns) != 1 {
		t.Fatalf("%d conns", len(p.conns))
	}
	want := []string{
		`data c2s "ab" 1`, `data s2c "xy" 2`, `gap s2c 3 3`, `data c2s "HEL" 4`, `data c2s "LO\nrest" 5`,
		`data s2c "ERR after" 6`, `close fin`,
	}
	if got := p.conns[0].calls; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("calls\n got %q\nwant %q", got, want)
	}
	s := m.Stats()
	if s.Conns != 1 || s.Detected["fake"] != 1 || s.Undetected != 0 || s.Pending != 0 {
		t.Fatalf("stats %+v", s)
	}
	if s.Events[KindMessage] != 4 || s.Errors != 1 || s.TotalEvents() != 5 || len(events) != 5 {
		t.Fatalf("events %+v (%d emitted)", s.Events, len(events))
	}
}

func TestMuxWindowAndDrop(t *testing.T) {
	tests := []struct {
		name       string
		feed       func(c capture.Conn)
		detected   uint64
		undetected uint64
		wantCalls  []string
	}{
		{
			name: "refused-then-ignored",
			feed: func(c capture.Conn) {
				c.Data(capture.ClientToServer, []byte("NOPE"), ts(1))
				c.Data(capture.ClientToServer, []byte("HELLO\n"), ts(2))
			},
			undetected: 1,
		},
		{
			name: "window-full-without-answer",
			feed: func(c capture.Conn) {
				c.Data(capture.ServerToClient, bytes.Repeat([]byte("z"), DetectWindow-1), ts(1))
				c.Data(capture.ServerToClient, []byte("zz"), ts(2))
				c.Data(capture.ClientToServer, []byte("HELLO\n"), ts(3))
			},
			undetected: 1,
		},
		{
			name: "yes-at-the-window-edge-keeps-the-overflow",
			feed: func(c capture.Conn) {
				c.Data(capture.ServerToClient, bytes.Repeat([]byte("z"), DetectWindow-6), ts(1))
				c.Data(capture.ServerToClient, []byte("HELLO\nOVERFLOW"), ts(2))
			},
			detected: 1,
			wantCalls: []string{
				fmt.Sprintf("data s2c %q 1", bytes.Repeat([]byte("z"), DetectWindow-6)),
				`data s2c "HELLO\n" 2`, `data s2c "OVERFLOW" 2`, "close eof",
			},
		},
		{
			name: "yes-from-the-other-direction",
			feed: func(c capture.Conn) {
				c.Data(capture.ClientToServer, []byte("junk"), ts(1))
				c.Data(capture.ServerToClient, []byte("HELLO\n"), ts(2))
			},
			detected:  1,
			wantCalls: []string{`data c2s "junk" 1`, `data s2c "HELLO\n" 2`, "close eof"},
		},
		{
			name:       "closed-while-pending",
			feed:       func(c capture.Conn) { c.Data(capture.ClientToServer, []byte("HELL"), ts(1)) },
			undetected: 1,
		},
		{
			name: "no-data",
			feed: func(c capture.Conn) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakeProto{name: "fake"}
			m := NewMux(nil, nil, p)
			c := m.Open(muxID)
			tt.feed(c)
			c.Close(capture.CloseEOF, ts(9))
			s := m.Stats()
			if s.Detected["fake"] != tt.detected || s.Undetected != tt.undetected || s.Pending != 0 {
				t.Fatalf("stats %+v", s)
			}
			if tt.detected == 0 {
				if len(p.conns) != 0 {
					t.Fatal("decoder created for an undetected connection")
				}
				return
			}
			if got := p.conns[0].calls; strings.Join(got, "|") != strings.Join(tt.wantCalls, "|") {
				t.Fatalf("calls\n got %q\nwant %q", got, tt.wantCalls)
			}
		})
	}
}

// TestMuxManyTinySegments: arrival records stay bounded when a connection
// sends thousands of one-byte segments before it is recognised.
func TestMuxManyTinySegments(t *testing.T) {
	p := &fakeProto{name: "fake"}
	m := NewMux(nil, nil, p)
	c := m.Open(muxID).(*muxConn)
	for i := 0; i < 3000; i++ {
		c.Data(capture.ClientToServer, []byte{'a'}, ts(int64(i)))
	}
	if len(c.chunks) > maxChunks {
		t.Fatalf("%d chunks", len(c.chunks))
	}
	c.Data(capture.ClientToServer, []byte("HELLO\n"), ts(5000))
	var total int
	for _, call := range p.conns[0].calls {
		var q string
		var d string
		var n int64
		if _, err := fmt.Sscanf(call, "data %s %q %d", &d, &q, &n); err == nil {
			total += len(q)
		}
	}
	if total != 3006 {
		t.Fatalf("replayed %d bytes, want 3006", total)
	}
}

func TestMuxStatsConcurrent(t *testing.T) {
	p := &fakeProto{name: "fake"}
	m := NewMux(nil, nil, p)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_ = m.Stats()
			}
		}
	}()
	for i := 0; i < 200; i++ {
		c := m.Open(muxID)
		c.Data(capture.ClientToServer, []byte("HELLO\n"), ts(1))
		c.Close(capture.CloseFIN, ts(2))
	}
	close(stop)
	wg.Wait()
	if s := m.Stats(); s.Detected["fake"] != 200 || s.Events[KindMessage] != 200 {
		t.Fatalf("stats %+v", s)
	}
}
