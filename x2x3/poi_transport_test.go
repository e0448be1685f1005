package x2x3

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rcds/decoder"
	"rcds/internal/msngen"
	"rcds/x1"
)

// keepHandler is a Handler keeping the PDUs it is given.
type keepHandler struct {
	mu   sync.Mutex
	pdus []*PDU
}

func (h *keepHandler) HandlePDU(_ context.Context, p *PDU) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pdus = append(h.pdus, p)
	return nil
}

func (h *keepHandler) Flush(context.Context) error { return nil }

// startReceiver serves a Receiver on a loopback port until the test ends.
func startReceiver(t testing.TB, h Handler) (*Receiver, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rcv := NewReceiver(ReceiverConfig{}, h, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rcv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return rcv, ln.Addr().String()
}

// startSender runs a Sender to addr until the test ends.
func startSender(t testing.TB, addr string) *Sender {
	t.Helper()
	s := NewSender(SenderConfig{Addr: addr}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; s.Close() })
	return s
}

// TestPOIToReceiverLoopback: capture → POI → Sender → TCP → Receiver. The
// MDF side receives, in order, exactly the PDUs the POI produces for the
// same capture into memory, and Flush returns once they are confirmed.
func TestPOIToReceiverLoopback(t *testing.T) {
	target := msngen.Passport(0)
	g := generate(t, busyOptions(target))
	task := newTask(poiXIDA, x1.X2andX3, []string{target})

	h := &keepHandler{}
	rcv, addr := startReceiver(t, h)
	sender := startSender(t, addr)
	regTCP := newTestRegistry(t)
	activate(t, regTCP, task)
	poiTCP := NewPOI(POIConfig{}, regTCP, sender, nil)
	replay(t, g.pcap, poiTCP, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := poiTCP.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	poiTCP.Close()

	regMem := newTestRegistry(t)
	activate(t, regMem, task)
	mem := &memSink{}
	poiMem := NewPOI(POIConfig{}, regMem, mem, nil)
	replay(t, g.pcap, poiMem, nil, nil)
	if err := poiMem.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	poiMem.Close()

	want := mem.all()
	h.mu.Lock()
	got := h.pdus
	h.mu.Unlock()
	if len(want) < 50 || len(got) != len(want) {
		t.Fatalf("the receiver got %d PDUs, the POI made %d", len(got), len(want))
	}
	for i := range want {
		a, _ := got[i].MarshalBinary()
		b, _ := want[i].MarshalBinary()
		if !bytes.Equal(a, b) {
			t.Fatalf("PDU %d differs after the trip over TCP", i)
		}
	}
	if st := sender.Stats(); st.Confirmed != uint64(len(want)) || st.Dropped != 0 {
		t.Errorf("sender stats %+v for %d PDUs", st, len(want))
	}
	if st := rcv.Stats(); st.PDUs != uint64(len(want)) || st.Malformed != 0 {
		t.Errorf("receiver stats %+v", st)
	}
	// Every payload decodes, and matches the expected events.
	ds, _ := decodeStream(t, got)
	x := mustXID(t, poiXIDA)
	diffSignatures(t, "over TCP", gotSignatures(t, ds, x, target, true, true),
		expectedFor(g.events, x, target, true, func(time.Time) bool { return true }))
}

// countHandler counts what it is given.
type countHandler struct{ n, bytes atomic.Uint64 }

func (h *countHandler) HandlePDU(_ context.Context, p *PDU) error {
	h.n.Add(1)
	h.bytes.Add(uint64(p.EncodedLen()))
	return nil
}

func (h *countHandler) Flush(context.Context) error { return nil }

// BenchmarkPOIToTCP measures events → matching → BER payloads → X2/X3 PDUs
// → Sender → TCP on loopback → Receiver, with every user of a generated
// capture a target (so that every deliverable event makes PDUs). It
// reports PDUs/s and bytes/s (PDU bytes on the wire), confirmed by the
// receiver's keep-alive acknowledgements.
func BenchmarkPOIToTCP(b *testing.B) {
	const users = 10
	g := generate(b, msngen.Options{Seed: 1, Users: users, Sessions: 20, Concurrency: 4})
	var targets []string
	for i := range users {
		targets = append(targets, msngen.Passport(i))
	}
	var evs []*decoder.Event
	replay(b, g.pcap, decoder.EmitterFunc(func(e *decoder.Event) {
		c := *e
		c.To = append([]string(nil), e.To...)
		c.Raw = append([]byte(nil), e.Raw...)
		evs = append(evs, &c)
	}), nil, nil)

	h := &countHandler{}
	_, addr := startReceiver(b, h)
	sender := NewSender(SenderConfig{Addr: addr, MaxBufferedPDUs: 1 << 20, MaxBufferedBytes: 1 << 30}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); sender.Run(ctx) }()
	defer func() { cancel(); <-done; sender.Close() }()
	reg := newTestRegistry(b)
	activate(b, reg, newTask(poiXIDA, x1.X2andX3, targets))
	// A wide dedup window would make repeated passes over the same events
	// duplicates of each other; shift each pass in time instead.
	poi := NewPOI(POIConfig{}, reg, sender, nil)
	defer poi.Close()
	span := evs[len(evs)-1].Time.Sub(evs[0].Time) + time.Minute

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	pass := 0
	for b.Loop() {
		shift := time.Duration(pass) * span
		for _, e := range evs {
			c := *e
			c.Time = e.Time.Add(shift)
			c.Comm = e.Comm + uint64(pass)
			poi.Emit(&c)
		}
		pass++
		if err := poi.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	st := poi.Stats()
	if st.SendErrors != 0 || h.n.Load() != st.X2+st.X3 {
		b.Fatalf("POI %+v, receiver %d PDUs", st, h.n.Load())
	}
	sec := elapsed.Seconds()
	b.ReportMetric(float64(h.n.Load())/sec, "PDUs/s")
	b.ReportMetric(float64(h.bytes.Load())/sec, "bytes/s")
	b.ReportMetric(float64(len(evs)*pass)/sec, "events/s")
}

// BenchmarkPOIThirdParty is the common case on a busy tap: events of
// people who are not targets, with tasks in force. No PDU, no lock.
func BenchmarkPOIThirdParty(b *testing.B) {
	g := generate(b, msngen.Options{Seed: 1, Users: 10, Sessions: 20, Concurrency: 4})
	var evs []*decoder.Event
	replay(b, g.pcap, decoder.EmitterFunc(func(e *decoder.Event) {
		c := *e
		c.To = append([]string(nil), e.To...)
		c.Raw = append([]byte(nil), e.Raw...)
		evs = append(evs, &c)
	}), nil, nil)
	reg := newTestRegistry(b)
	activate(b, reg, newTask(poiXIDA, x1.X2andX3, []string{"nobody@example.invalid", "203.0.113.0/24"}))
	activate(b, reg, newTask(poiXIDB, x1.X2andX3, []string{"someone@example.invalid"}))
	sink := &memSink{}
	poi := NewPOI(POIConfig{}, reg, sink, nil)
	defer poi.Close()
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range evs {
			poi.Emit(e)
		}
	}
	if len(sink.all()) != 0 {
		b.Fatal("PDUs for non-targets")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}
