package msnsim

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkRelay measures one message from a client's socket write to the
// recipient's inbox through the switchboard (one at a time), and reports
// the median and 99th percentile.
func BenchmarkRelay(b *testing.B) {
	srv, _ := startServer(b, ServerConfig{})
	ctx := testCtx(b)
	alice := login(b, ctx, srv, "alice@example.com", "A", 15)
	bob := login(b, ctx, srv, "bob@example.com", "B", 8)
	ch, err := alice.StartChat(ctx, bob.Passport())
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, err := ch.Send(ctx, "m"+strconv.Itoa(i))
		if err != nil {
			b.Fatal(err)
		}
		m := <-bob.Inbox()
		lat = append(lat, m.Time.Sub(t))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkRate runs RunRate at 1,000 messages/s for b.N messages (use
// -benchtime=2000x for two seconds) and reports the send-to-inbox latency
// percentiles and how many sends fell behind schedule.
func BenchmarkRate(b *testing.B) {
	srv, _ := startServer(b, ServerConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	alice := login(b, ctx, srv, "alice@example.com", "A", 15)
	bob := login(b, ctx, srv, "bob@example.com", "B", 8)
	b.ResetTimer()
	res, err := RunRate(ctx, alice, bob, RateConfig{Rate: 1000, Count: b.N, Size: 100})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, len(res.Markers))
	for _, mk := range res.Markers {
		lat = append(lat, res.Received[mk].Sub(res.Sent[mk]))
	}
	reportPercentiles(b, lat)
	b.ReportMetric(float64(res.Late), "late")
	b.ReportMetric(float64(res.MaxLag.Microseconds()), "maxlag-µs")
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
