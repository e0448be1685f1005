package x1

import (
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"
)

// The requirement: an activated task is in force in the POI within 100 ms,
// and a deactivated one stops at once. A POI learns about tasks through
// Subscribe; these benchmarks measure, over mutual TLS on loopback with
// the bbolt commit included, the time from the moment the ADMF starts its
// HTTP POST to the moment the subscriber's callback runs. (That the
// callback runs before the ADMF gets its answer is a property, tested in
// TestSubscriberBeforeResponse.)

type latencyBench struct {
	b      *testing.B
	env    *testEnv
	client *Client
	seen   chan time.Time
	lat    []time.Duration
}

func newLatencyBench(b *testing.B, kind ChangeKind) *latencyBench {
	pki, err := NewDemoPKI(nil, "bench-admf")
	if err != nil {
		b.Fatal(err)
	}
	stls, err := pki.ServerTLS()
	if err != nil {
		b.Fatal(err)
	}
	ctls, err := pki.ClientTLS(true)
	if err != nil {
		b.Fatal(err)
	}
	e := newEnv(b)
	srv, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", TLSConfig: stls}, e.reg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	runServer(b, srv)
	lb := &latencyBench{b: b, env: e, client: NewClient(srv.URL(), ctls, "admf", "ne"), seen: make(chan time.Time, 1)}
	b.Cleanup(lb.client.Close)
	e.reg.Subscribe(func(c Change) {
		if c.Kind == kind {
			lb.seen <- time.Now()
		}
	})
	if _, err := lb.client.CreateDestination(b.Context(), dest(didBoth, X2andX3, "192.0.2.1:5000")); err != nil {
		b.Fatal(err)
	}
	if _, err := lb.client.Ping(b.Context()); err != nil { // TLS handshake done before timing
		b.Fatal(err)
	}
	return lb
}

func (lb *latencyBench) report() {
	if len(lb.lat) == 0 {
		return
	}
	slices.Sort(lb.lat)
	var sum time.Duration
	for _, d := range lb.lat {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	lb.b.ReportMetric(ms(sum/time.Duration(len(lb.lat))), "ms-to-subscriber(mean)")
	lb.b.ReportMetric(ms(lb.lat[len(lb.lat)*99/100]), "ms-to-subscriber(p99)")
	lb.b.ReportMetric(ms(lb.lat[len(lb.lat)-1]), "ms-to-subscriber(max)")
}

func BenchmarkActivateToSubscriber(b *testing.B) {
	lb := newLatencyBench(b, TaskActivated)
	ctx := b.Context()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		xid := fmt.Sprintf("ac000000-0000-4000-8000-%012d", i)
		start := time.Now()
		if _, err := lb.client.ActivateTask(ctx, emailTask(xid, "target@example.com", didBoth)); err != nil {
			b.Fatal(err)
		}
		lb.lat = append(lb.lat, (<-lb.seen).Sub(start))
	}
	lb.report()
}

func BenchmarkDeactivate(b *testing.B) {
	lb := newLatencyBench(b, TaskDeactivated)
	ctx := b.Context()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		xid := fmt.Sprintf("de000000-0000-4000-8000-%012d", i)
		b.StopTimer()
		if _, err := lb.client.ActivateTask(ctx, emailTask(xid, "target@example.com", didBoth)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if _, err := lb.client.DeactivateTask(ctx, xid); err != nil {
			b.Fatal(err)
		}
		lb.lat = append(lb.lat, (<-lb.seen).Sub(start))
	}
	lb.report()
}

// BenchmarkHandlePing is the parser and encoder without I/O of note
// (one audit append per message).
func BenchmarkHandlePing(b *testing.B) {
	e := newEnv(b)
	doc := encode(b, &PingRequest{})
	for b.Loop() {
		if _, st := e.reg.Handle(b.Context(), "bench", doc); st != 200 {
			b.Fatal(st)
		}
	}
}

// BenchmarkDecodeRequest is the parser alone, on a task with every field.
func BenchmarkDecodeRequest(b *testing.B) {
	doc := encode(b, &ActivateTaskRequest{Task: fullTask()})
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, errs, err := DecodeRequest(doc); err != nil || errs[0] != nil {
			b.Fatal(err, errs)
		}
	}
}
