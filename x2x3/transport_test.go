package x2x3

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"rcds/internal/testtools"
)

// hangGuard bounds every wait in these tests so that a bug fails the test
// instead of hanging it; it is not a performance assertion.
const hangGuard = 30 * time.Second

// logBuf collects log output safely across goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testLogger(t *testing.T) (*slog.Logger, *logBuf) {
	lb := &logBuf{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", lb.String())
		}
	})
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// recorder is a Handler that records what it is given.
type recorder struct {
	mu      sync.Mutex
	pdus    []*PDU
	events  []string // "pdu" and "flush", in order
	flushes int
	changed chan struct{}
	// flushFn, when set, runs inside Flush (after the event is recorded).
	flushFn func(ctx context.Context) error
	// handleErr, when set, is returned by HandlePDU.
	handleErr error
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) poke() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) HandlePDU(ctx context.Context, p *PDU) error {
	r.mu.Lock()
	if r.handleErr != nil {
		r.mu.Unlock()
		return r.handleErr
	}
	r.pdus = append(r.pdus, p)
	r.events = append(r.events, "pdu")
	r.mu.Unlock()
	r.poke()
	return nil
}

func (r *recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	r.events = append(r.events, "flush")
	fn := r.flushFn
	r.mu.Unlock()
	r.poke()
	if fn != nil {
		if err := fn(ctx); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.flushes++
	r.mu.Unlock()
	r.poke()
	return nil
}

func (r *recorder) snapshot() ([]*PDU, []string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*PDU(nil), r.pdus...), append([]string(nil), r.events...), r.flushes
}

// waitUntil waits for cond, re-checking whenever ch fires (or every 5ms).
func waitUntil(t *testing.T, what string, ch <-chan struct{}, cond func() bool) {
	t.Helper()
	deadline := time.After(hangGuard)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline:
			t.Fatalf("waiting for %s: gave up after %s", what, hangGuard)
		}
	}
}

// serve starts a Receiver on ln; the returned stop cancels it and waits.
func serve(t *testing.T, ln net.Listener, cfg ReceiverConfig, h Handler, log *slog.Logger) (*Receiver, func()) {
	t.Helper()
	r := NewReceiver(cfg, h, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return r, stop
}

func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// run starts s.Run; the returned stop closes s and checks Run's result.
func run(t *testing.T, s *Sender) func() {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			s.Close()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func testPDU(seq *Sequencer, i int) *PDU {
	p := &PDU{Type: TypeX2, Format: FormatETSI102232, Direction: DirFromTarget, XID: xidA, CorrelationID: uint64(i / 10),
		Attrs:   Attributes{Timestamp: ts1.Add(time.Duration(i) * time.Millisecond), MatchedTarget: "alice@example.com"},
		Payload: []byte(fmt.Sprintf("payload %d", i))}
	if i%2 == 1 {
		p.Type, p.Direction = TypeX3, DirToTarget
	}
	seq.Stamp(p)
	return p
}

func seqs(ps []*PDU) []uint32 {
	out := make([]uint32, len(ps))
	for i, p := range ps {
		out[i] = *p.Attrs.SeqNo
	}
	return out
}

func span(from, to int) []uint32 {
	var out []uint32
	for i := from; i < to; i++ {
		out = append(out, uint32(i))
	}
	return out
}

func flushCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}

func TestSenderReceiverInOrder(t *testing.T) {
	log, _ := testLogger(t)
	h := newRecorder()
	ln := listen(t, "127.0.0.1:0")
	rcv, _ := serve(t, ln, ReceiverConfig{}, h, log)
	s := NewSender(SenderConfig{Addr: ln.Addr().String(), KeepaliveInterval: time.Hour}, log)
	run(t, s)

	const n = 2000
	seq := NewSequencer()
	var want []*PDU
	for i := range n {
		p := testPDU(seq, i)
		want = append(want, p)
		if err := s.Send(context.Background(), p); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if err := s.Flush(flushCtx(t)); err != nil {
		t.Fatal(err)
	}
	got, events, flushes := h.snapshot()
	if len(got) != n {
		t.Fatalf("handler got %d PDUs, want %d", len(got), n)
	}
	for i := range got {
		equalPDU(t, fmt.Sprint("PDU ", i), got[i], &PDU{Version: Version, Type: want[i].Type, Format: want[i].Format,
			Direction: want[i].Direction, XID: want[i].XID, CorrelationID: want[i].CorrelationID, Attrs: want[i].Attrs, Payload: want[i].Payload})
	}
	if flushes == 0 || events[len(events)-1] != "flush" {
		t.Errorf("Flush returned before the handler flushed after the last PDU (events end %v)", events[max(0, len(events)-3):])
	}
	st := s.Stats()
	if st.Sent != n || st.Confirmed != n || st.Resent != 0 || st.Dropped != 0 || st.Buffered != 0 || st.BufferedBytes != 0 ||
		st.Connects != 1 || st.Reconnects != 0 || st.State != StateConnected || st.Acks == 0 || st.Acks > st.Keepalives {
		t.Errorf("sender stats %+v", st)
	}
	// The receiver counts an ack once written; the sender may have read it first.
	waitUntil(t, "the receiver to count its ack", nil, func() bool { return rcv.Stats().Keepalives > 0 })
	rs := rcv.Stats()
	if rs.PDUs != n || rs.Malformed != 0 || rs.HandlerErrors != 0 || rs.Accepted != 1 {
		t.Errorf("receiver stats %+v", rs)
	}
	// Flush with nothing pending returns at once.
	if err := s.Flush(flushCtx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestSenderKeepalivesWhenIdle(t *testing.T) {
	log, _ := testLogger(t)
	h := newRecorder()
	ln := listen(t, "127.0.0.1:0")
	rcv, _ := serve(t, ln, ReceiverConfig{}, h, log)
	s := NewSender(SenderConfig{Addr: ln.Addr().String(), KeepaliveInterval: 10 * time.Millisecond}, log)
	run(t, s)
	waitUntil(t, "three answered keep-alives", h.changed, func() bool { _, _, f := h.snapshot(); return f >= 3 })
	waitUntil(t, "the sender to see the acks", nil, func() bool { return s.Stats().Acks >= 3 })
	if got, _, _ := h.snapshot(); len(got) != 0 {
		t.Errorf("handler got %d PDUs from an idle sender", len(got))
	}
	waitUntil(t, "the receiver to count its acks", nil, func() bool { return rcv.Stats().Keepalives >= 3 })
	if rs := rcv.Stats(); rs.PDUs != 0 {
		t.Errorf("receiver stats %+v", rs)
	}
}

// dialRaw connects a plain TCP client to the receiver.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(hangGuard))
	return c
}

// closedByPeer: the peer closed the connection, with FIN (EOF) or, when it
// had unread data, RST.
func closedByPeer(err error) bool {
	return err == io.EOF || errors.Is(err, syscall.ECONNRESET)
}

func write(t *testing.T, c net.Conn, ps ...*PDU) {
	t.Helper()
	var b []byte
	for _, p := range ps {
		var err error
		if b, err = p.AppendBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

func TestReceiverAcksAfterFlush(t *testing.T) {
	log, _ := testLogger(t)
	h := newRecorder()
	ln := listen(t, "127.0.0.1:0")
	rcv, _ := serve(t, ln, ReceiverConfig{}, h, log)
	c := dialRaw(t, ln.Addr().String())
	seq := NewSequencer()
	write(t, c, testPDU(seq, 0), testPDU(seq, 1), NewKeepalive(5))
	ack, err := NewReader(c, 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	if ack.Type != TypeKeepaliveAck || ack.Attrs.SeqNo == nil || *ack.Attrs.SeqNo != 5 {
		t.Fatalf("answer %+v, want keep-alive ack 5", ack)
	}
	// The ack was written after Flush returned, and Flush came after both PDUs.
	got, events, flushes := h.snapshot()
	if len(got) != 2 || flushes != 1 || strings.Join(events, ",") != "pdu,pdu,flush" {
		t.Errorf("at the ack: %d PDUs, %d flushes, events %v", len(got), flushes, events)
	}
	waitUntil(t, "the receiver to count its ack", nil, func() bool { return rcv.Stats().Keepalives == 1 })
}

func TestReceiverNoAckWhenFlushFails(t *testing.T) {
	log, _ := testLogger(t)
	h := newRecorder()
	h.flushFn = func(context.Context) error { return errors.New("disk full") }
	ln := listen(t, "127.0.0.1:0")
	rcv, _ := serve(t, ln, ReceiverConfig{}, h, log)
	c := dialRaw(t, ln.Addr().String())
	write(t, c, testPDU(NewSequencer(), 0), NewKeepalive(1))
	if p, err := NewReader(c, 0).Next(); !closedByPeer(err) {
		t.Fatalf("after a failed flush: %+v, %v; want the connection closed without ack", p, err)
	}
	if st := rcv.Stats(); st.HandlerErrors != 1 || st.Keepalives != 0 || st.Malformed != 0 {
		t.Errorf("receiver stats %+v", st)
	}
}

func TestReceiverDropsWhenHandlerFails(t *testing.T) {
	log, _ := testLogger(t)
	h := newRecorder()
	h.handleErr = errors.New("store unavailable")
	ln := listen(t, "127.0.0.1:0")
	rcv, _ := serve(t, ln, ReceiverConfig{}, h, log)
	c := dialRaw(t, ln.Addr().String())
	write(t, c, testPDU(NewSequencer(), 0), NewKeepalive(1))
	if p, err := NewReader(c, 0).Next(); !closedByPeer(err) {
		t.Fatalf("got %+v, %v; want the connection closed without ack", p, err)
	}
	if st := rcv.Stats(); st.HandlerErrors != 1 || st.Keepalives != 0 {
		t.Errorf("receiver stats %+v", st)
	}
}

// TestReceiverDropsMalformedKeepsServing: each kind of garbage drops its own
// connection, is logged and counted, and another connection is served
// throughout.
func TestReceiverDropsMalformedKeepsServing(t *testing.T) {
	log, logs := testLogger(t)
	h := newRecorder()
	ln := listen(t, "127.0.0.1:0")
	rcv, _ := serve(t, ln, ReceiverConfig{}, h, log)
	seq := NewSequencer()
	good := dialRaw(t, ln.Addr().String())
	goodRd := NewReader(good, 0)
	write(t, good, testPDU(seq, 0))

	garbage := []struct {
		name  string
		bytes []byte
		half  bool // close the write side after sending (a truncated PDU)
	}{
		{"header length < 40", header(1, 12, 0, make([]byte, 100)...), false},
		{"header length huge", header(1, 0xfffffff0, 0), false},
		{"attribute overrun", header(1, 48, 0, 0, 17, 0, 200, 1, 2, 3, 4), false},
		{"payload > 16 MiB", header(2, 40, 16<<20+1), false},
		{"unknown PDU type", header(9, 40, 0), false},
		{"keep-alive with payload", header(3, 40, 3, 1, 2, 3), false},
		{"truncated", header(1, 40, 100, make([]byte, 50)...), true},
		{"HTTP", []byte("GET / HTTP/1.1\r\nHost: mdf\r\n\r\n" + strings.Repeat("x", 40)), false},
	}
	for i, g := range garbage {
		bad := dialRaw(t, ln.Addr().String())
		if _, err := bad.Write(g.bytes); err != nil {
			t.Fatal(err)
		}
		if g.half {
			bad.(*net.TCPConn).CloseWrite()
		}
		if b, err := io.ReadAll(bad); !(err == nil || closedByPeer(err)) || len(b) != 0 {
			t.Errorf("%s: read %q, %v; want the connection closed", g.name, b, err)
		}
		waitUntil(t, "the drop to be counted", nil, func() bool { return rcv.Stats().Malformed == uint64(i+1) })
		// The good connection is still served and answered.
		write(t, good, testPDU(seq, i+1), NewKeepalive(uint32(i)))
		ack, err := goodRd.Next()
		if err != nil || ack.Type != TypeKeepaliveAck || *ack.Attrs.SeqNo != uint32(i) {
			t.Fatalf("%s: good connection: %+v, %v", g.name, ack, err)
		}
	}
	got, _, _ := h.snapshot()
	if fmt.Sprint(seqs(got)) != fmt.Sprint(span(0, len(garbage)+1)) {
		t.Errorf("handler got sequence numbers %v", seqs(got))
	}
	if n := strings.Count(logs.String(), "malformed X2/X3 stream"); n != len(garbage) {
		t.Errorf("%d malformed-stream log lines, want %d", n, len(garbage))
	}
	if st := rcv.Stats(); st.Malformed != uint64(len(garbage)) || st.Accepted != uint64(len(garbage)+1) {
		t.Errorf("receiver stats %+v", st)
	}
}

// TestSenderReconnectResends: the MDF goes away with PDUs delivered but not
// confirmed; a new MDF on the same address receives every unconfirmed PDU
// again, in order.
func TestSenderReconnectResends(t *testing.T) {
	log, _ := testLogger(t)
	ln1 := listen(t, "127.0.0.1:0")
	addr := ln1.Addr().String()
	h1 := newRecorder()
	blocked := make(chan struct{})
	var phase2 bool
	var mu sync.Mutex
	h1.flushFn = func(ctx context.Context) error {
		mu.Lock()
		p2 := phase2
		mu.Unlock()
		if !p2 {
			return nil
		}
		close(blocked) // at most once: the connection loop waits here
		<-ctx.Done()
		return ctx.Err()
	}
	_, stop1 := serve(t, ln1, ReceiverConfig{}, h1, log)
	s := NewSender(SenderConfig{Addr: addr, KeepaliveInterval: time.Hour, BackoffMin: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond}, log)
	run(t, s)

	seq := NewSequencer()
	for i := range 50 {
		if err := s.Send(context.Background(), testPDU(seq, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(flushCtx(t)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	phase2 = true
	mu.Unlock()
	for i := 50; i < 100; i++ {
		if err := s.Send(context.Background(), testPDU(seq, i)); err != nil {
			t.Fatal(err)
		}
	}
	<-blocked // the first MDF holds PDUs of phase 2 and will never confirm them
	stop1()
	got1, _, _ := h1.snapshot()
	k := len(got1) - 50
	if k < 1 || fmt.Sprint(seqs(got1)) != fmt.Sprint(span(0, 50+k)) {
		t.Fatalf("first MDF got %v", seqs(got1))
	}

	h2 := newRecorder()
	serve(t, listen(t, addr), ReceiverConfig{}, h2, log)
	if err := s.Flush(flushCtx(t)); err != nil {
		t.Fatal(err)
	}
	got2, _, _ := h2.snapshot()
	if fmt.Sprint(seqs(got2)) != fmt.Sprint(span(50, 100)) {
		t.Errorf("second MDF got %v, want 50..99", seqs(got2))
	}
	st := s.Stats()
	if st.Sent != 100 || st.Confirmed != 100 || st.Resent < uint64(k) || st.Resent > 50 || st.Reconnects < 1 || st.Buffered != 0 {
		t.Errorf("sender stats %+v (first MDF held %d of phase 2)", st, k)
	}
}

// freeAddr returns a loopback address nobody listens on (for now).
func freeAddr(t *testing.T) string {
	ln := listen(t, "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestSenderOverflow(t *testing.T) {
	sample := testPDU(NewSequencer(), 0)
	size := sample.EncodedLen()
	tests := []struct {
		name   string
		cfg    SenderConfig
		accept int
	}{
		{"count", SenderConfig{MaxBufferedPDUs: 10}, 10},
		{"bytes", SenderConfig{MaxBufferedBytes: 3*size + size/2}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logs := testLogger(t)
			addr := freeAddr(t)
			cfg := tt.cfg
			cfg.Addr, cfg.BackoffMin, cfg.BackoffMax, cfg.KeepaliveInterval = addr, 5*time.Millisecond, 20*time.Millisecond, time.Hour
			s := NewSender(cfg, log)
			run(t, s)
			seq := NewSequencer()
			accepted, refused := 0, 0
			for i := range 15 {
				err := s.Send(context.Background(), testPDU(seq, i))
				switch {
				case err == nil:
					accepted++
				case errors.Is(err, ErrBufferFull):
					refused++
				default:
					t.Fatal(err)
				}
			}
			if accepted != tt.accept || refused != 15-tt.accept {
				t.Fatalf("accepted %d, refused %d; want %d, %d", accepted, refused, tt.accept, 15-tt.accept)
			}
			st := s.Stats()
			if st.Dropped != uint64(refused) || st.Buffered != tt.accept || st.BufferedBytes != tt.accept*size {
				t.Errorf("stats %+v", st)
			}
			if !strings.Contains(logs.String(), "buffer full, PDU dropped") || !strings.Contains(logs.String(), "dropped_total=1") {
				t.Errorf("overflow not logged")
			}
			waitUntil(t, "a failed connection attempt", nil, func() bool { return s.Stats().DialFailures > 0 })
			// The MDF comes: the buffered PDUs are delivered, nothing else.
			h := newRecorder()
			serve(t, listen(t, addr), ReceiverConfig{}, h, log)
			if err := s.Flush(flushCtx(t)); err != nil {
				t.Fatal(err)
			}
			got, _, _ := h.snapshot()
			if fmt.Sprint(seqs(got)) != fmt.Sprint(span(0, tt.accept)) {
				t.Errorf("MDF got %v", seqs(got))
			}
			if st := s.Stats(); st.Confirmed != uint64(tt.accept) || st.Dropped != uint64(refused) {
				t.Errorf("stats after delivery %+v", st)
			}
			// Room again.
			if err := s.Send(context.Background(), testPDU(seq, 99)); err != nil {
				t.Errorf("Send after the buffer drained: %v", err)
			}
		})
	}
}

// TestSenderAckTimeout: an MDF that reads but never acknowledges is given up
// on and reconnected to.
func TestSenderAckTimeout(t *testing.T) {
	log, logs := testLogger(t)
	ln := listen(t, "127.0.0.1:0")
	conns := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c)
			conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	s := NewSender(SenderConfig{Addr: ln.Addr().String(), KeepaliveInterval: 5 * time.Millisecond, AckTimeout: 20 * time.Millisecond,
		BackoffMin: time.Millisecond}, log)
	run(t, s)
	if err := s.Send(context.Background(), testPDU(NewSequencer(), 0)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a second connection with the PDU re-sent", nil, func() bool { return len(conns) >= 2 && s.Stats().Resent >= 1 })
	st := s.Stats()
	if st.Reconnects < 1 || st.Confirmed != 0 || st.Buffered != 1 || st.Resent < 1 {
		t.Errorf("stats %+v", st)
	}
	if !strings.Contains(logs.String(), "keep-alive not acknowledged") {
		t.Errorf("ack timeout not logged")
	}
}

// TestSenderAnswersMDFKeepalive: a keep-alive from the MDF is acknowledged
// with its sequence number; a PDU of another kind from the MDF is a protocol
// error that drops the connection.
func TestSenderAnswersMDFKeepalive(t *testing.T) {
	log, logs := testLogger(t)
	ln := listen(t, "127.0.0.1:0")
	t.Cleanup(func() { ln.Close() })
	s := NewSender(SenderConfig{Addr: ln.Addr().String(), KeepaliveInterval: time.Hour, BackoffMin: time.Millisecond}, log)
	run(t, s)
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(hangGuard))
	write(t, c, NewKeepalive(41))
	ack, err := NewReader(c, 0).Next()
	if err != nil || ack.Type != TypeKeepaliveAck || ack.Attrs.SeqNo == nil || *ack.Attrs.SeqNo != 41 {
		t.Fatalf("answer %+v, %v; want keep-alive ack 41", ack, err)
	}
	write(t, c, testPDU(NewSequencer(), 0))
	if _, err := io.ReadAll(c); err != nil && !closedByPeer(err) {
		t.Fatal(err)
	}
	c2, err := ln.Accept() // it reconnects, after logging why
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	waitUntil(t, "the protocol error in the log", nil, func() bool { return strings.Contains(logs.String(), "MDF sent a X2 PDU") })
}

func TestSenderAPI(t *testing.T) {
	log, _ := testLogger(t)
	s := NewSender(SenderConfig{Addr: freeAddr(t), BackoffMin: time.Millisecond}, log)
	if st := s.Stats(); st.State != StateIdle {
		t.Errorf("state %q before Run", st.State)
	}
	if err := s.Send(context.Background(), NewKeepalive(1)); !errors.Is(err, ErrPDUType) {
		t.Errorf("Send(keep-alive): %v", err)
	}
	if err := s.Send(context.Background(), &PDU{Type: TypeX2, Attrs: Attributes{MatchedTarget: strings.Repeat("x", 70000)}}); !errors.Is(err, ErrAttrTooLong) {
		t.Errorf("Send(unencodable): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Send(ctx, testPDU(NewSequencer(), 0)); !errors.Is(err, context.Canceled) {
		t.Errorf("Send(canceled): %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	waitUntil(t, "Run to start", nil, func() bool { return s.Stats().State != StateIdle })
	if err := s.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v", err)
	}
	if err := s.Send(context.Background(), testPDU(NewSequencer(), 0)); err != nil {
		t.Fatal(err)
	}
	fctx, fcancel := context.WithCancel(context.Background())
	fcancel()
	if err := s.Flush(fctx); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 PDUs unconfirmed") {
		t.Errorf("Flush(canceled) with nothing listening: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run after Close: %v", err)
	}
	if err := s.Send(context.Background(), testPDU(NewSequencer(), 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if err := s.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
	if err := s.Run(context.Background()); err != nil {
		t.Errorf("Run after Close: %v", err)
	}
	if st := s.Stats(); st.State != StateClosed || st.Buffered != 1 {
		t.Errorf("stats after Close %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// Run ends with its context.
	s2 := NewSender(SenderConfig{Addr: freeAddr(t)}, log)
	rctx, rcancel := context.WithCancel(context.Background())
	go func() { done <- s2.Run(rctx) }()
	rcancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run with canceled context: %v", err)
	}
}

// tlsConfigs returns a server config requiring client certificates and a
// client config with one, both from a fresh CA.
func tlsConfigs(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) tls.Certificate {
		k := newKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
	}
	server = &tls.Config{Certificates: []tls.Certificate{leaf(2, "mdf", x509.ExtKeyUsageServerAuth)},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	client = &tls.Config{Certificates: []tls.Certificate{leaf(3, "poi-1", x509.ExtKeyUsageClientAuth)}, RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client
}

func TestSenderReceiverMutualTLS(t *testing.T) {
	log, logs := testLogger(t)
	srvCfg, cliCfg := tlsConfigs(t)
	h := newRecorder()
	ln := listen(t, "127.0.0.1:0")
	rcv, _ := serve(t, ln, ReceiverConfig{TLS: srvCfg}, h, log)
	s := NewSender(SenderConfig{Addr: ln.Addr().String(), TLS: cliCfg, KeepaliveInterval: time.Hour}, log)
	run(t, s)
	seq := NewSequencer()
	for i := range 10 {
		if err := s.Send(context.Background(), testPDU(seq, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(flushCtx(t)); err != nil {
		t.Fatal(err)
	}
	got, _, _ := h.snapshot()
	if fmt.Sprint(seqs(got)) != fmt.Sprint(span(0, 10)) {
		t.Errorf("MDF got %v", seqs(got))
	}
	if !strings.Contains(logs.String(), "CN=poi-1") {
		t.Errorf("the POI's certificate subject is not logged")
	}
	// Without a client certificate: refused, nothing handed over.
	noCert := cliCfg.Clone()
	noCert.Certificates = nil
	c, err := tls.Dial("tcp", ln.Addr().String(), noCert)
	if err == nil {
		c.SetDeadline(time.Now().Add(hangGuard))
		write(t, c, testPDU(seq, 10), NewKeepalive(1))
		if p, err := NewReader(c, 0).Next(); err == nil {
			t.Errorf("answer without client certificate: %+v", p)
		}
		c.Close()
	}
	waitUntil(t, "the refusal to be counted", nil, func() bool { return rcv.Stats().Refused == 1 })
	// Plain TCP to the TLS receiver is refused too.
	plain := dialRaw(t, ln.Addr().String())
	write(t, plain, testPDU(seq, 11))
	io.ReadAll(plain)
	waitUntil(t, "the second refusal", nil, func() bool { return rcv.Stats().Refused == 2 })
	if got, _, _ := h.snapshot(); len(got) != 10 {
		t.Errorf("MDF got %d PDUs, want the 10 sent over mutual TLS", len(got))
	}
}

func TestReceiverMaxConnsAndIdle(t *testing.T) {
	log, _ := testLogger(t)
	h := newRecorder()
	ln := listen(t, "127.0.0.1:0")
	rcv, _ := serve(t, ln, ReceiverConfig{MaxConns: 1, IdleTimeout: 50 * time.Millisecond}, h, log)
	first := dialRaw(t, ln.Addr().String())
	write(t, first, NewKeepalive(1))
	if _, err := NewReader(first, 0).Next(); err != nil {
		t.Fatal(err)
	}
	second := dialRaw(t, ln.Addr().String())
	if b, _ := io.ReadAll(second); len(b) != 0 {
		t.Errorf("second connection got %q", b)
	}
	if st := rcv.Stats(); st.Refused != 1 {
		t.Errorf("stats %+v", st)
	}
	// The first, now silent, is dropped after the idle timeout.
	if b, _ := io.ReadAll(first); len(b) != 0 {
		t.Errorf("idle connection got %q", b)
	}
	waitUntil(t, "no active connection", nil, func() bool { return rcv.Stats().Active == 0 })
}

// TestIndependentSenderToReceiver: the shared tools' Python sender (an
// encoder independent of ours) sends split and coalesced segments over a
// real socket; our Receiver hands over its four PDUs and acknowledges its
// keep-alive.
func TestIndependentSenderToReceiver(t *testing.T) {
	gen := testtools.Tool(t, "tests/mk-x2x3-samples.py", "python3")
	log, _ := testLogger(t)
	h := newRecorder()
	ln := listen(t, "127.0.0.1:0")
	rcv, _ := serve(t, ln, ReceiverConfig{}, h, log)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	if out, err := exec.Command("python3", gen, "--send", "127.0.0.1", port).CombinedOutput(); err != nil {
		t.Fatalf("mk-x2x3-samples --send: %v\n%s", err, out)
	}
	waitUntil(t, "four PDUs", h.changed, func() bool { got, _, _ := h.snapshot(); return len(got) >= 4 })
	waitUntil(t, "the connection to end", nil, func() bool { return rcv.Stats().Active == 0 })
	got, events, _ := h.snapshot()
	var types []string
	for _, p := range got {
		types = append(types, p.Type.String())
	}
	if strings.Join(types, ",") != "X2,X3,X2,X2" || strings.Join(events, ",") != "pdu,flush,pdu,pdu,pdu" {
		t.Errorf("PDUs %v, events %v", types, events)
	}
	if len(got) == 4 && (len(got[3].Payload) != 3800 || got[1].Attrs.Timestamp.Unix() != 1704164645) {
		t.Errorf("payload or attributes lost: %d bytes, %v", len(got[3].Payload), got[1].Attrs.Timestamp)
	}
	if st := rcv.Stats(); st.Malformed != 0 || st.PDUs != 4 {
		t.Errorf("receiver stats %+v", st)
	}
}

func TestFileSink(t *testing.T) {
	path := t.TempDir() + "/out.x2x3"
	fs, err := CreateFileSink(path)
	if err != nil {
		t.Fatal(err)
	}
	stream, want := sampleStream(t)
	for _, p := range want {
		if err := fs.Send(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := fs.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, b := fs.Stats(); n != uint64(len(want)) || b != uint64(len(stream)) {
		t.Errorf("stats %d PDUs %d bytes", n, b)
	}
	// Flushed: the bytes are in the file before Close.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, stream) {
		t.Errorf("file holds %d bytes, want the %d-byte stream", len(b), len(stream))
	}
	if err := fs.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fs.Send(context.Background(), want[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if err := fs.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if _, err := CreateFileSink(t.TempDir() + "/no/such/dir/out"); err == nil {
		t.Errorf("CreateFileSink in a missing directory succeeded")
	}
	if err := fs.Send(context.Background(), &PDU{Type: 9}); !errors.Is(err, ErrClosed) {
		t.Errorf("closed sink: %v", err)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errors.New("device gone")
	}
	w.n--
	return len(p), nil
}

func TestFileSinkErrors(t *testing.T) {
	fs := NewFileSink(&failWriter{})
	if err := fs.Send(context.Background(), &PDU{Type: 9}); !errors.Is(err, ErrPDUType) {
		t.Errorf("Send(bad PDU): %v", err)
	}
	if err := fs.Send(context.Background(), NewKeepalive(1)); err != nil {
		t.Fatal(err) // buffered
	}
	err := fs.Flush(context.Background())
	if err == nil || !strings.Contains(err.Error(), "device gone") {
		t.Fatalf("Flush: %v", err)
	}
	if err2 := fs.Send(context.Background(), NewKeepalive(2)); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("Send after a write error: %v, want the sticky error", err2)
	}
	if err := fs.Close(); err == nil {
		t.Errorf("Close after a write error succeeded")
	}
}

func TestSequencer(t *testing.T) {
	s := NewSequencer()
	if a, b, c := s.Next(xidA), s.Next(xidA), s.Next(xidB); a != 0 || b != 1 || c != 0 {
		t.Errorf("got %d %d %d, want 0 1 0", a, b, c)
	}
	p := &PDU{XID: xidA}
	if n := s.Stamp(p); n != 2 || *p.Attrs.SeqNo != 2 {
		t.Errorf("Stamp: %d, %v", n, *p.Attrs.SeqNo)
	}
	s.Forget(xidA)
	if n := s.Next(xidA); n != 0 {
		t.Errorf("after Forget: %d", n)
	}
	s.next[xidB] = 1<<32 - 1
	if a, b := s.Next(xidB), s.Next(xidB); a != 1<<32-1 || b != 0 {
		t.Errorf("wrap: %d %d", a, b)
	}
	// Concurrent use hands out each number once.
	s = NewSequencer()
	var wg sync.WaitGroup
	seen := make([]int, 8000)
	var mu sync.Mutex
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				n := s.Next(xidA)
				mu.Lock()
				seen[n]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("number %d handed out %d times", i, c)
		}
	}
}
