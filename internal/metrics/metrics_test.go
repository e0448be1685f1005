package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"rcds/capture"
	"rcds/decoder"
	"rcds/decoder/msnp"
	"rcds/hi"
	"rcds/internal/metrics"
	"rcds/store"
	"rcds/x1"
	"rcds/x2x3"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestMetricsContent: every source's snapshot appears under its metric
// names, with the values of the snapshot, and X1 requests are counted from
// the audit log (only those after the collector was created).
func TestMetricsContent(t *testing.T) {
	db, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg, err := x1.OpenRegistry(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	ping := func() {
		reg.Apply(context.Background(), "CN=test", &x1.PingRequest{})
	}
	ping() // before the collector: not counted
	src := metrics.Sources{
		Capture: func() capture.Stats {
			return capture.Stats{Packets: 1234, Bytes: 99999, Filtered: 7, Flows: 12, FlowsOpen: 3, Gaps: 2}
		},
		KernelDrops: func() (uint64, error) { return 5, nil },
		Decoder: func() decoder.MuxStats {
			return decoder.MuxStats{Conns: 12, Detected: map[string]uint64{"msnp": 10},
				Events: map[decoder.Kind]uint64{decoder.KindMessage: 40, decoder.KindLogin: 3, decoder.KindError: 1}, Errors: 1}
		},
		MSNP: func() msnp.Stats { return msnp.Stats{Commands: 500, SkippedBytes: 17} },
		POI: func() x2x3.POIStats {
			return x2x3.POIStats{Tasks: 2, Events: 44, Matched: 9, X2: 9, X3: 4, Bytes: 1000}
		},
		MDF: func() hi.MDFStats {
			return hi.MDFStats{PDUs: 13, Records: 26, UnknownXID: 1, Destinations: []hi.DestinationStats{{
				DID: "d1", Connected: true, Mode: hi.ModeAck, Queued: 13, Sent: 13, Confirmed: 11,
				Queue:   store.QueueStats{Records: 2, Bytes: 300},
				Latency: hi.LatencySummary{Count: 11, P50: 2 * time.Millisecond, P90: 3 * time.Millisecond, P99: 4 * time.Millisecond, Max: 5 * time.Millisecond},
			}, {DID: "d2", Queued: 13}}}
		},
		LEMF:  func() hi.LEMFStats { return hi.LEMFStats{Connections: 2, Active: 2, IRI: 9, CC: 4, Bytes: 4096} },
		Audit: db,
	}
	preg := prometheus.NewRegistry()
	if _, err := metrics.Register(preg, src); err != nil {
		t.Fatal(err)
	}
	ping()
	ping()
	reg.Apply(context.Background(), "CN=test", &x1.DeactivateTaskRequest{XID: "a1000000-0000-4000-8000-000000000001"})
	if err := x1.RecordAudit(db, x1.AuditRecord{Principal: "mdf", Operation: hi.AuditDelivered, Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(metrics.Handler(preg, nil))
	defer srv.Close()
	code, body := get(t, srv.URL+"/metrics")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, line := range []string{
		"rcds_capture_packets_total 1234",
		"rcds_capture_bytes_total 99999",
		`rcds_capture_dropped_packets_total{reason="filtered"} 7`,
		"rcds_capture_kernel_drops_total 5",
		"rcds_capture_flows_total 12",
		"rcds_capture_flows_open 3",
		`rcds_decoder_connections_detected_total{proto="msnp"} 10`,
		`rcds_decoder_events_total{kind="message"} 40`,
		`rcds_decoder_events_total{kind="login"} 3`,
		"rcds_decoder_errors_total 1",
		"rcds_msnp_commands_total 500",
		"rcds_poi_tasks 2",
		`rcds_poi_pdus_total{type="x2"} 9`,
		`rcds_poi_pdus_total{type="x3"} 4`,
		"rcds_mdf_pdus_total 13",
		`rcds_mdf_pdus_dropped_total{reason="unknown_xid"} 1`,
		`rcds_hi_records_queued_total{did="d1"} 13`,
		`rcds_hi_records_confirmed_total{did="d1"} 11`,
		`rcds_hi_queue_depth_records{did="d1"} 2`,
		`rcds_hi_connected{did="d1",mode="pDUAcknowledgement"} 1`,
		`rcds_hi_connected{did="d2",mode=""} 0`,
		`rcds_hi_confirm_latency_seconds{did="d1",quantile="0.99"} 0.004`,
		`rcds_lemf_records_total{kind="cc"} 4`,
		`rcds_x1_requests_total{op="Ping",result="ok"} 2`,
		`rcds_x1_requests_total{op="DeactivateTask",result="error"} 1`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("missing %q", line)
		}
	}
	if strings.Contains(body, "HIDelivered") {
		t.Error("the MDF's audit entries are counted as X1 requests")
	}
	if strings.Contains(body, `did="d2",quantile`) {
		t.Error("latency of a destination without confirmations")
	}
	// Counters grow with the audit log at each scrape.
	ping()
	_, body = get(t, srv.URL+"/metrics")
	if !strings.Contains(body, `rcds_x1_requests_total{op="Ping",result="ok"} 3`+"\n") {
		t.Error("second scrape did not count the new Ping")
	}
}

// TestMetricsPartialSources: a collector without sources exports nothing
// of theirs and does not fail.
func TestMetricsPartialSources(t *testing.T) {
	preg := prometheus.NewRegistry()
	if _, err := metrics.Register(preg, metrics.Sources{MSNP: func() msnp.Stats { return msnp.Stats{Commands: 1} }}); err != nil {
		t.Fatal(err)
	}
	mf, err := preg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mf) != 2 {
		var names []string
		for _, m := range mf {
			names = append(names, m.GetName())
		}
		t.Errorf("families %q, want the two msnp ones", names)
	}
}

// TestHealthz: 200 while healthy, 503 with the reason otherwise.
func TestHealthz(t *testing.T) {
	var bad error
	srv := httptest.NewServer(metrics.Handler(prometheus.NewRegistry(), func() error { return bad }))
	defer srv.Close()
	if code, body := get(t, srv.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("%d %q", code, body)
	}
	bad = errors.New("capture stopped")
	if code, body := get(t, srv.URL+"/healthz"); code != 503 || !strings.Contains(body, "capture stopped") {
		t.Errorf("%d %q", code, body)
	}
}

// TestServe: the listener serves until its context ends.
func TestServe(t *testing.T) {
	s, err := metrics.Listen("127.0.0.1:0", metrics.Handler(prometheus.NewRegistry(), nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	if code, _ := get(t, "http://"+s.Addr()+"/healthz"); code != 200 {
		t.Errorf("status %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
	if _, err := http.Get("http://" + s.Addr() + "/healthz"); err == nil {
		t.Error("still serving after cancel")
	}
	if _, err := metrics.Listen(s.Addr()+"x", nil, nil); err == nil {
		t.Error("bad address accepted")
	}
}
