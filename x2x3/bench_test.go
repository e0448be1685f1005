package x2x3

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// benchPDU is a typical X3 PDU: a chat message of about 200 bytes in a
// format-1 payload, with the attributes the POI sets.
func benchPDU() *PDU {
	p := samplePDUs()[1].pdu
	q := *p
	q.Payload = bytes.Repeat([]byte{0x42}, 200)
	return &q
}

func BenchmarkMarshal(b *testing.B) {
	p := benchPDU()
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(p.EncodedLen()))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = p.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	enc, _ := benchPDU().MarshalBinary()
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReader reads a stream of PDUs; one op is one PDU.
func BenchmarkReader(b *testing.B) {
	enc, _ := benchPDU().MarshalBinary()
	stream := bytes.Repeat(enc, 1000)
	r := bytes.NewReader(stream)
	rd := NewReader(r, 0)
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rd.Next(); err == io.EOF {
			r.Reset(stream)
			rd = NewReader(r, 0)
			if _, err := rd.Next(); err != nil {
				b.Fatal(err)
			}
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

// nopHandler accepts everything at once (no persistence): the benchmark
// measures the transport.
type nopHandler struct{}

func (nopHandler) HandlePDU(context.Context, *PDU) error { return nil }
func (nopHandler) Flush(context.Context) error           { return nil }

// BenchmarkSenderLoopback: PDUs through Sender → real TCP on loopback →
// Receiver, confirmed by keep-alive acks; one op is one PDU.
func BenchmarkSenderLoopback(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	go NewReceiver(ReceiverConfig{}, nopHandler{}, log).Serve(ctx, ln)
	s := NewSender(SenderConfig{Addr: ln.Addr().String(), KeepaliveInterval: time.Hour,
		MaxBufferedPDUs: 1 << 20, MaxBufferedBytes: 512 << 20}, log)
	go s.Run(ctx)
	defer s.Close()
	p := benchPDU()
	seq := NewSequencer()
	b.SetBytes(int64(p.EncodedLen()))
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		seq.Stamp(p)
		for s.Send(ctx, p) != nil { // buffer full: wait for confirmations
			if err := s.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
		n++
	}
	if err := s.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "PDUs/s")
	if st := s.Stats(); st.Confirmed != uint64(n) {
		b.Fatalf("%d PDUs sent, stats %+v", n, st)
	}
}
