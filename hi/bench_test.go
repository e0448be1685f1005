package hi

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rcds/x1"
	"rcds/x2x3"
)

// benchSetup is an MDF with an HI2 and an HI3 destination on one LEMF that
// counts the records it gets.
type benchSetup struct {
	e       *env
	got     atomic.Int64
	pdus    []*x2x3.PDU
	records int
}

func newBench(b *testing.B, messages int, cfg MDFConfig) *benchSetup {
	s := &benchSetup{}
	hi2, hi3 := fastLEMF(b, &s.got), fastLEMF(b, &s.got)
	s.e = newEnv(b, cfg)
	s.e.createDest(didHI2, x1.X2Only, hi2)
	s.e.createDest(didHI3, x1.X3Only, hi3)
	s.e.activate(xidA, x1.MediationDetails{LIID: "BENCH", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2, didHI3}})
	g := &pduGen{t: b, xid: mustXID(b, xidA)}
	for i := 0; i < messages; i++ {
		x2, x3 := g.message(i, uint64(i/1000))
		s.pdus = append(s.pdus, x2, x3)
	}
	s.records = len(s.pdus)
	return s
}

// fastLEMF is an agency side that costs the benchmark as little CPU as
// possible (the real one runs on another machine): it splits the stream by
// the outer BER length only, counts the large records (IRI and CC; TRI
// PDUs are under 150 bytes) and hands the small ones to the reference
// LEMF's record handler, which answers options, keep-alives and
// acknowledgement requests.
func fastLEMF(b *testing.B, got *atomic.Int64) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	l, _ := NewLEMF(LEMFConfig{HI2Listen: "x"}, nil)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.Cleanup(func() { c.Close() })
			go func() {
				lc := l.newConn(c, nil, 0, 1)
				br := bufio.NewReaderSize(c, 256<<10)
				buf := make([]byte, 0, 4096)
				for {
					// Definite-length framing only: identifier (a one-octet
					// SEQUENCE tag) and length.
					var hdr [6]byte
					if _, err := io.ReadFull(br, hdr[:2]); err != nil {
						return
					}
					n, hl := int(hdr[1]), 2
					if hdr[1]&0x80 != 0 {
						k := int(hdr[1] & 0x7f)
						if k == 0 || k > 4 {
							b.Error("fast LEMF: unsupported length form")
							return
						}
						if _, err := io.ReadFull(br, hdr[2:2+k]); err != nil {
							return
						}
						n = 0
						for _, x := range hdr[2 : 2+k] {
							n = n<<8 | int(x)
						}
						hl += k
					}
					if n > 150 {
						if _, err := br.Discard(n); err != nil {
							return
						}
						got.Add(1)
						continue
					}
					buf = append(buf[:0], hdr[:hl]...)
					buf = buf[:hl+n]
					if _, err := io.ReadFull(br, buf[hl:]); err != nil {
						return
					}
					if err := lc.record(buf, 0); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func (s *benchSetup) confirmed() bool {
	var n uint64
	for _, d := range s.e.mdf.Stats().Destinations {
		n += d.Confirmed
	}
	return n == uint64(s.records)
}

func (s *benchSetup) report(b *testing.B, elapsed time.Duration) {
	st := s.e.mdf.Stats()
	b.ReportMetric(float64(s.records)/elapsed.Seconds(), "records/s")
	if st.Store.Commits > 0 {
		b.ReportMetric(float64(st.Store.Appends)/float64(st.Store.Commits), "records/commit")
		b.ReportMetric(float64(st.Store.Commits)/elapsed.Seconds(), "fsyncs/s")
	}
	var lat LatencySummary
	for _, d := range st.Destinations {
		if d.Latency.Count > 0 && d.Latency.P99 > lat.P99 {
			lat = d.Latency
		}
	}
	b.ReportMetric(float64(lat.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkThroughput: X2/X3 PDUs handed to the MDF in process (as
// `rcds serve` does) by 4 producers, each flushing every 4096 PDUs,
// durably queued (group commit, fsync per
// transaction) and delivered over TCP to a LEMF that confirms them by PDU
// acknowledgement. One op is one message (an X2 and an X3 PDU, two
// records); records/s counts until the last record is confirmed.
func BenchmarkThroughput(b *testing.B) {
	s := newBench(b, b.N, baseConfig())
	s.e.run()
	const producers = 4
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := (len(s.pdus) + producers - 1) / producers
	for p := 0; p < producers; p++ {
		lo, hi := p*per, min((p+1)*per, len(s.pdus))
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := lo; i < hi; i++ {
				if err := s.e.mdf.Send(ctx, s.pdus[i]); err != nil {
					b.Error(err)
					return
				}
				if (i-lo)%4096 == 4095 {
					if err := s.e.mdf.Flush(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			}
			s.e.mdf.Flush(ctx)
		}()
	}
	wg.Wait()
	accepted := time.Since(start)
	waitFor(b, "confirmation", s.confirmed)
	elapsed := time.Since(start)
	b.StopTimer()
	s.report(b, elapsed)
	b.ReportMetric(float64(s.records)/accepted.Seconds(), "accepted-records/s")
}

// BenchmarkThroughputTCP is BenchmarkThroughput with the X2/X3 side over
// real TCP: an x2x3.Sender (the POI) to an x2x3.Receiver handing PDUs to
// the MDF, which acknowledges keep-alives only after its Flush.
func BenchmarkThroughputTCP(b *testing.B) {
	s := newBench(b, b.N, baseConfig())
	s.e.run()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rcv := x2x3.NewReceiver(x2x3.ReceiverConfig{}, s.e.mdf, testLogger(b))
	go rcv.Serve(ctx, ln)
	snd := x2x3.NewSender(x2x3.SenderConfig{Addr: ln.Addr().String(), MaxBufferedPDUs: len(s.pdus) + 1,
		MaxBufferedBytes: 1 << 30}, testLogger(b))
	go snd.Run(ctx)
	defer snd.Close()
	b.ResetTimer()
	start := time.Now()
	for _, p := range s.pdus {
		if err := snd.Send(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	if err := snd.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	accepted := time.Since(start)
	waitFor(b, "confirmation", s.confirmed)
	elapsed := time.Since(start)
	b.StopTimer()
	s.report(b, elapsed)
	b.ReportMetric(float64(s.records)/accepted.Seconds(), "accepted-records/s")
}

// BenchmarkLatency: records at a steady 1,000 per second (an X2 and an X3
// PDU every 2 ms, in process); reports the time from X2/X3 receipt to the
// LEMF's confirmation (p50/p99: upper bounds of ~9% wide histogram
// buckets). One op is one message (two records); use e.g. -benchtime=2000x.
func BenchmarkLatency(b *testing.B) {
	s := newBench(b, b.N, baseConfig())
	s.e.run()
	waitFor(b, "connections", func() bool {
		for _, d := range s.e.mdf.Stats().Destinations {
			if d.Mode != ModeAck {
				return false
			}
		}
		return true
	})
	b.ResetTimer()
	start := time.Now()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	ctx := context.Background()
	for i := 0; i < len(s.pdus); i += 2 {
		<-tick.C
		s.e.mdf.Send(ctx, s.pdus[i])
		s.e.mdf.Send(ctx, s.pdus[i+1])
	}
	waitFor(b, "confirmation", s.confirmed)
	elapsed := time.Since(start)
	b.StopTimer()
	s.report(b, elapsed)
}
