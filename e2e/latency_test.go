package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"rcds/decoder"
	"rcds/hi"
	"rcds/internal/msnsim"
)

// LatencyResult is what TestLatency measured (written as JSON to
// $RCDS_LATENCY_OUT when set).
type LatencyResult struct {
	Rate      int     `json:"rate"`         // messages per second offered
	Seconds   float64 `json:"seconds"`      // duration of the run
	Sent      int     `json:"sent"`         // messages sent by the target
	Captured  int     `json:"captured"`     // of which decoded from the live capture
	Delivered int     `json:"delivered"`    // of which received as HI3 content by the LEMF
	Late      int     `json:"late"`         // messages the sender wrote more than one period late
	Drops     uint64  `json:"kernel_drops"` // packets the kernel dropped (capture ring full)
	Gaps      uint64  `json:"gaps"`         // holes in the reassembled streams
	P50Ms     float64 `json:"p50_ms"`
	P90Ms     float64 `json:"p90_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	MeanMs    float64 `json:"mean_ms"`
	// CaptureP50Ms and CaptureP99Ms are the share of the capture side:
	// from the packet timestamp to the decoded event reaching the POI.
	CaptureP50Ms float64 `json:"capture_p50_ms"`
	CaptureP99Ms float64 `json:"capture_p99_ms"`
}

// TestLatency measures, at a steady message rate between two simulated
// users (the sender is the target), the time from the message's packet
// arriving on the interface (the AF_PACKET capture timestamp, which the
// decoder gives the event) to the arrival of its HI3 record at the LEMF.
// It runs only when RCDS_LATENCY_SECONDS is set (bench/latency.sh);
// RCDS_LATENCY_RATE sets the rate (default 1000/s).
func TestLatency(t *testing.T) {
	secs := os.Getenv("RCDS_LATENCY_SECONDS")
	if secs == "" {
		t.Skip("latency measurement: set RCDS_LATENCY_SECONDS (see bench/latency.sh)")
	}
	needRoot(t)
	dur, err := strconv.ParseFloat(secs, 64)
	if err != nil || dur <= 0 {
		t.Fatalf("RCDS_LATENCY_SECONDS=%q", secs)
	}
	rate := 1000
	if r := os.Getenv("RCDS_LATENCY_RATE"); r != "" {
		if rate, err = strconv.Atoi(r); err != nil || rate <= 0 {
			t.Fatalf("RCDS_LATENCY_RATE=%q", r)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := msnsim.NewServer(msnsim.ServerConfig{SendQueue: 65536}, nil)
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	a := srv.Addrs()

	const prefix = "rcds-lat"
	var (
		mu      sync.Mutex
		pktTime = map[string]time.Time{}
		decoded = map[string]time.Time{} // when the decoder handed the event to the POI
		arrived = map[string]time.Time{}
	)
	marker := func(body string) string {
		if !strings.HasPrefix(body, prefix+"-") {
			return ""
		}
		m, _, _ := strings.Cut(body, " ")
		return m
	}
	obs, rec := newObserver(), newRecorder()
	obs.onEvent = func(e *decoder.Event) {
		if e.Kind != decoder.KindMessage {
			return
		}
		if m := marker(e.Body); m != "" {
			mu.Lock()
			if _, ok := pktTime[m]; !ok {
				pktTime[m] = e.Time
				decoded[m] = time.Now()
			}
			mu.Unlock()
		}
	}
	rec.onCC = func(r *hi.LEMFRecord, at time.Time) {
		if m := marker(string(r.Content)); m != "" {
			mu.Lock()
			if _, ok := arrived[m]; !ok {
				arrived[m] = at
			}
			mu.Unlock()
		}
	}
	e := startEnv(t, "lo", portsOf(a.Dispatch, a.NS, a.SB), obs, rec)
	login := func(p string, v int) *msnsim.Client {
		cl, err := msnsim.Dial(ctx, msnsim.ClientConfig{Dispatch: a.Dispatch.String(), Passport: p, Version: v, InboxSize: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		if err := cl.Login(ctx); err != nil {
			t.Fatal(err)
		}
		return cl
	}
	from, to := login(alice, 15), login(bob, 8)
	if _, err := e.activate(ctx, alice, "E2E-LATENCY"); err != nil {
		t.Fatal(err)
	}
	res, err := msnsim.RunRate(ctx, from, to, msnsim.RateConfig{Rate: rate, Duration: time.Duration(dur * float64(time.Second)), Prefix: prefix})
	if err != nil {
		t.Fatalf("rate driver: %v", err)
	}
	n := len(res.Markers)
	all := poll(30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(arrived) >= n
	})
	cs := e.st.Engine.Stats()
	drops := e.kernelDrops()
	if !all {
		mu.Lock()
		t.Errorf("after 30 s: %d sent, %d decoded from the capture, %d at the LEMF; kernel ring drops %d, stream gaps %d",
			n, len(pktTime), len(arrived), drops, cs.Gaps)
		mu.Unlock()
	}

	mu.Lock()
	defer mu.Unlock()
	var lat, dec []time.Duration
	for _, m := range res.Markers {
		p, ok1 := pktTime[m]
		r, ok2 := arrived[m]
		if ok1 && ok2 {
			lat = append(lat, r.Sub(p))
			dec = append(dec, decoded[m].Sub(p))
		}
	}
	if len(lat) == 0 {
		t.Fatal("no latency measured")
	}
	slices.Sort(lat)
	slices.Sort(dec)
	quant := func(l []time.Duration, f float64) time.Duration {
		return l[max(0, min(len(l)-1, int(math.Ceil(f*float64(len(l))))-1))]
	}
	q := func(f float64) time.Duration { return quant(lat, f) }
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
	out := LatencyResult{
		Rate: rate, Seconds: res.End.Sub(res.Start).Seconds(), Sent: n, Captured: len(pktTime), Delivered: len(arrived),
		Late: res.Late, Drops: drops, Gaps: cs.Gaps, P50Ms: ms(q(0.50)), P90Ms: ms(q(0.90)), P99Ms: ms(q(0.99)), MaxMs: ms(lat[len(lat)-1]),
		MeanMs:       ms(sum / time.Duration(len(lat))),
		CaptureP50Ms: ms(quant(dec, 0.5)), CaptureP99Ms: ms(quant(dec, 0.99)),
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	t.Logf("latency packet → HI3 record at the LEMF:\n%s", b)
	if p := os.Getenv("RCDS_LATENCY_OUT"); p != "" {
		if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
			t.Error(err)
		}
	}
	if out.Delivered != n || out.Captured != n {
		t.Errorf("%d sent, %d captured, %d delivered", n, out.Captured, out.Delivered)
	}
	fmt.Fprintf(os.Stderr, "latency: %d msgs at %d/s: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", n, rate, out.P50Ms, out.P99Ms, out.MaxMs)
}
