package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"

	"rcds/hi"
	"rcds/internal/demo"
	"rcds/internal/msnsim"
	"rcds/x1"
)

const (
	serveHI2 = "d5000000-0000-4000-8000-000000000002"
	serveHI3 = "d5000000-0000-4000-8000-000000000003"
	serveXID = "a5000000-0000-4000-8000-000000000001"
)

// testLEMF is a LEMF on ephemeral ports counting what it receives.
type testLEMF struct {
	l       *hi.LEMF
	iri, cc atomic.Int64
	stop    func()
}

func startTestLEMF(t *testing.T) *testLEMF {
	t.Helper()
	tl := &testLEMF{}
	l, err := hi.NewLEMF(hi.LEMFConfig{HI2Listen: "127.0.0.1:0", HI3Listen: "127.0.0.1:0", OnRecord: func(r *hi.LEMFRecord) {
		switch {
		case r.Duplicate:
		case r.Kind == "iri":
			tl.iri.Add(1)
		case r.Kind == "cc":
			tl.cc.Add(1)
		}
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()
	tl.l = l
	tl.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(tl.stop)
	return tl
}

// writeServeRequests writes the X1 documents that provision the two
// destinations (at hi2, hi3) and the task on the demo's target.
func writeServeRequests(t *testing.T, dir, hi2, hi3 string) string {
	t.Helper()
	h := func(n int) x1.Header {
		return x1.Header{ADMFIdentifier: "admf-test", NEIdentifier: "rcds", Version: x1.Version,
			Timestamp: time.Now().UTC(), TransactionID: "00000000-0000-4000-8000-00000000005" + strconv.Itoa(n)}
	}
	doc, err := x1.EncodeRequest(
		&x1.CreateDestinationRequest{Header: h(1), Destination: x1.Destination{DID: serveHI2, DeliveryType: x1.X2Only, Address: hi2}},
		&x1.CreateDestinationRequest{Header: h(2), Destination: x1.Destination{DID: serveHI3, DeliveryType: x1.X3Only, Address: hi3}},
		&x1.ActivateTaskRequest{Header: h(3), Task: x1.Task{
			XID: serveXID, Targets: []x1.Target{{Kind: x1.TargetEmail, Value: demo.Target}}, DeliveryType: x1.X2andX3,
			DIDs:      []string{serveHI2, serveHI3},
			Mediation: []x1.MediationDetails{{LIID: "LIID-SERVE-1", DeliveryType: x1.HI2andHI3}},
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "provision.xml")
	if err := os.WriteFile(p, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runningServe is `rcds serve` running through the cobra root.
type runningServe struct {
	out, logs *syncBuffer
	metrics   string // http://addr
	x1        string
	stop      func() error
}

var (
	reMetricsURL = regexp.MustCompile(`metrics: (http://\S+)/metrics`)
	reX1URL      = regexp.MustCompile(`x1: (\S+)`)
)

func startServe(t *testing.T, args ...string) *runningServe {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningServe{out: &syncBuffer{}, logs: &syncBuffer{}}
	root := newRootCommand(&globalOptions{})
	root.SetOut(rs.out)
	root.SetErr(rs.logs)
	root.SetArgs(append([]string{"serve"}, args...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	stopped := false
	rs.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = rs.stop() })
	waitFor(t, 20*time.Second, "serve to start", func() bool {
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\n%s\n%s", err, rs.out, rs.logs)
		default:
		}
		return strings.Contains(rs.out.String(), "serving;")
	})
	if m := reMetricsURL.FindStringSubmatch(rs.out.String()); m != nil {
		rs.metrics = m[1]
	}
	if m := reX1URL.FindStringSubmatch(rs.out.String()); m != nil {
		rs.x1 = m[1]
	}
	return rs
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func scrape(t *testing.T, url string) (int, string) {
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

// metricValue returns the value of the exposition line that starts with
// name (with its labels), or -1.
func metricValue(body, name string) float64 {
	for _, l := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(l, name+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// TestServePcapToLEMF runs `rcds serve --config FILE --pcap demo.pcap`:
// the task provisioned at start-up catches the target's traffic, the LEMF
// receives exactly the expected records, /metrics shows the pipeline's
// counters and an X1 request made over mutual TLS, /healthz is OK, the
// identities left at their placeholders are warned about, and SIGINT-like
// cancellation stops it cleanly.
func TestServePcapToLEMF(t *testing.T) {
	dir := t.TempDir()
	want := expectDemo(t, 1, 8)
	capt, err := demo.Generate(1, 8)
	if err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(dir, "demo.pcap")
	if err := os.WriteFile(pcap, capt.Pcap, 0o600); err != nil {
		t.Fatal(err)
	}
	pki, err := x1.WriteDemoPKI(filepath.Join(dir, "pki"), nil)
	if err != nil {
		t.Fatal(err)
	}
	lemf := startTestLEMF(t)
	req := writeServeRequests(t, dir, lemf.l.HI2Addr(), lemf.l.HI3Addr())
	cfg := filepath.Join(dir, "rcds.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`# rcds serve test configuration
data: %s
x1-listen: 127.0.0.1:0
x1-cert: %s
x1-key: %s
x1-client-ca: %s
x1-request: [%s]
metrics-listen: 127.0.0.1:0
operator-id: OPTST
country-code: DE
log-level: debug
destinations:
  %s:
    profile: "102232"
`, filepath.Join(dir, "data"), pki.ServerCert, pki.ServerKey, pki.CACert, req, serveHI3)), 0o600); err != nil {
		t.Fatal(err)
	}
	rs := startServe(t, "--config", cfg, "--pcap", pcap, "--log-level", "info")
	if rs.metrics == "" || !strings.HasPrefix(rs.x1, "https://") {
		t.Fatalf("addresses not printed:\n%s", rs.out)
	}
	waitFor(t, 30*time.Second, "the LEMF to receive the target's content", func() bool {
		return lemf.cc.Load() >= int64(want.cc)
	})
	waitFor(t, 10*time.Second, "every record to be confirmed", func() bool {
		_, body := scrape(t, rs.metrics+"/metrics")
		return metricValue(body, `rcds_hi_records_confirmed_total{did="`+serveHI3+`"}`) == float64(want.cc) &&
			metricValue(body, `rcds_hi_queue_depth_records{did="`+serveHI2+`"}`) == 0
	})
	cl := x1Client(t, rs.x1, pki)
	if _, err := cl.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, body := scrape(t, rs.metrics+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for name, v := range map[string]float64{
		"rcds_capture_packets_total":                                          float64(capt.Result.Packets),
		`rcds_poi_pdus_total{type="x3"}`:                                      float64(want.cc),
		"rcds_poi_tasks":                                                      1,
		`rcds_hi_records_queued_total{did="` + serveHI3 + `"}`:                float64(want.cc),
		`rcds_hi_connected{did="` + serveHI3 + `",mode="pDUAcknowledgement"}`: 1,
		`rcds_x1_requests_total{op="Ping",result="ok"}`:                       1,
		`rcds_mdf_pdus_dropped_total{reason="unknown_xid"}`:                   0,
	} {
		if got := metricValue(body, name); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if metricValue(body, `rcds_decoder_events_total{kind="message"}`) <= float64(want.messages) {
		t.Error("decoder events not exported")
	}
	if metricValue(body, "go_goroutines") <= 0 {
		t.Error("no Go runtime metrics")
	}
	if code, hb := scrape(t, rs.metrics+"/healthz"); code != 200 || hb != "ok\n" {
		t.Errorf("/healthz: %d %q", code, hb)
	}
	if got := lemf.iri.Load(); got <= lemf.cc.Load() || lemf.cc.Load() != int64(want.cc) {
		t.Errorf("LEMF: %d IRI, %d CC; want %d CC", got, lemf.cc.Load(), want.cc)
	}
	if err := rs.stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, rs.logs)
	}
	logs := rs.logs.String()
	for _, s := range []string{"configuration file applied", "capture file processed; serving until a signal",
		`identity is a placeholder: set it for a real deployment (flag or config key)" key=ne-id`, "records_queued_on_disk=0"} {
		if !strings.Contains(logs, s) {
			t.Errorf("logs lack %q", s)
		}
	}
	if strings.Contains(logs, "key=operator-id") || strings.Contains(logs, "key=country-code") {
		t.Error("configured identities reported as placeholders")
	}
	if strings.Contains(logs, "level=DEBUG") {
		t.Error("--log-level on the command line did not win over the file")
	}
}

func x1Client(t *testing.T, url string, pki x1.PKIFiles) *x1.Client {
	t.Helper()
	tc, err := x1.ClientTLSConfig(pki.CACert, pki.ClientCert, pki.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	cl := x1.NewClient(url, tc, "admf-test", "rcds")
	t.Cleanup(cl.Close)
	return cl
}

// TestServeShutdownKeepsQueue: with the LEMF away, a stopped serve leaves
// every record on disk; started again on the same data directory, it
// delivers them once the destination points to a LEMF (ModifyDestination
// over X1).
func TestServeShutdownKeepsQueue(t *testing.T) {
	dir := t.TempDir()
	want := expectDemo(t, 1, 8)
	capt, err := demo.Generate(1, 8)
	if err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(dir, "demo.pcap")
	if err := os.WriteFile(pcap, capt.Pcap, 0o600); err != nil {
		t.Fatal(err)
	}
	pki, err := x1.WriteDemoPKI(filepath.Join(dir, "pki"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Port 9 (discard) on loopback: nothing listens, connections fail.
	req := writeServeRequests(t, dir, "127.0.0.1:9", "127.0.0.1:9")
	common := []string{"--data", filepath.Join(dir, "data"), "--x1-listen", "127.0.0.1:0", "--x1-cert", pki.ServerCert,
		"--x1-key", pki.ServerKey, "--x1-client-ca", pki.CACert, "--metrics-listen", "127.0.0.1:0",
		"--operator-id", "OPTST", "--country-code", "DE"}
	rs := startServe(t, append(common, "--pcap", pcap, "--x1-request", req)...)
	waitFor(t, 30*time.Second, "the records to be queued", func() bool {
		_, body := scrape(t, rs.metrics+"/metrics")
		return metricValue(body, `rcds_hi_queue_depth_records{did="`+serveHI3+`"}`) == float64(want.cc) &&
			strings.Contains(rs.logs.String(), "capture file processed")
	})
	if err := rs.stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, rs.logs)
	}
	if !strings.Contains(rs.logs.String(), "records_queued_on_disk=") || strings.Contains(rs.logs.String(), "records_queued_on_disk=0") {
		t.Errorf("shutdown did not report the queued records:\n%s", rs.logs)
	}

	lemf := startTestLEMF(t)
	rs = startServe(t, common...) // no capture: X1 and the MDF only
	cl := x1Client(t, rs.x1, pki)
	for _, d := range []x1.Destination{
		{DID: serveHI2, DeliveryType: x1.X2Only, Address: lemf.l.HI2Addr()},
		{DID: serveHI3, DeliveryType: x1.X3Only, Address: lemf.l.HI3Addr()},
	} {
		if _, err := cl.ModifyDestination(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "the queued records to reach the LEMF", func() bool {
		return lemf.cc.Load() == int64(want.cc) && lemf.iri.Load() > int64(want.cc)
	})
	if err := rs.stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, rs.logs)
	}
}

// TestServeFlags: bad combinations are refused before anything starts.
func TestServeFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--pcap", "x.pcap", "--iface", "lo"}, "exclude each other"},
		{[]string{"--speed", "recorded"}, "--speed needs --pcap"},
		{[]string{"--iface", "lo", "--speed", "recorded"}, "--pcap only"},
		{[]string{"--pcap", "x.pcap", "--speed", "warp"}, "want fast or recorded"},
		{[]string{"--pcap", "x.pcap", "--filter-port", "70000"}, "not a port"},
	} {
		_, _, err := execRoot(t.Context(), append([]string{"serve", "--data", t.TempDir()}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.args, err, c.want)
		}
	}
}

// TestPacer: packets are released at their recorded spacing, measured
// from the first packet; a late packet is not delayed further.
func TestPacer(t *testing.T) {
	clock := time.Unix(1000, 0)
	var sleeps []time.Duration
	p := newPacer(func() time.Time { return clock })
	p.sleep = func(d time.Duration) { sleeps = append(sleeps, d); clock = clock.Add(d) }
	t0 := time.Date(2006, 3, 14, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) gopacket.CaptureInfo { return gopacket.CaptureInfo{Timestamp: t0.Add(d)} }
	p.wait(1, at(0))
	p.wait(2, at(30*time.Millisecond))
	clock = clock.Add(5 * time.Millisecond) // processing took 5ms
	p.wait(3, at(50*time.Millisecond))
	clock = clock.Add(100 * time.Millisecond) // far behind
	p.wait(4, at(60*time.Millisecond))
	if want := []time.Duration{30 * time.Millisecond, 15 * time.Millisecond}; !slices.Equal(sleeps, want) {
		t.Errorf("sleeps %v, want %v", sleeps, want)
	}
}

// TestDeployConfig: the example configuration in deploy/ is valid for
// `rcds serve`: every key is one of its flags, values parse.
func TestDeployConfig(t *testing.T) {
	root := newRootCommand(&globalOptions{})
	cmd, _, err := root.Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	fc, err := loadConfig(cmd, filepath.Join("..", "..", "deploy", "rcds.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{
		"iface": "eth1", "filter-port": "[1863]", "country-code": "DE", "block-timeout": "2ms",
		"metrics-listen": "127.0.0.1:9090", "log-format": "json", "data": "/var/lib/rcds",
	} {
		if got := lookupFlag(cmd, flag).Value.String(); got != want {
			t.Errorf("%s = %q, want %q", flag, got, want)
		}
	}
	d, ok := fc.Destinations["3fa85f64-5717-4562-b3fc-2c963f66afa6"]
	if !ok || d.Profile != "101671" || !d.Integrity || d.TLS == nil || fc.Default == nil {
		t.Errorf("destinations %+v default %+v", fc.Destinations, fc.Default)
	}
}

// TestCompletionCommand: cobra's shell completion is there.
func TestCompletionCommand(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, _, err := execRoot(t.Context(), "completion", sh)
		if err != nil || !strings.Contains(out, "rcds") || len(out) < 1000 {
			t.Errorf("%s: %v (%d bytes)", sh, err, len(out))
		}
	}
}

// TestServeLive runs `rcds serve --iface lo` (root only): simulated users
// chat over loopback, the target's message reaches the LEMF, and the live
// capture's kernel counters are exported.
func TestServeLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (AF_PACKET); see also ./e2e")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim := msnsim.NewServer(msnsim.ServerConfig{}, nil)
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	a := sim.Addrs()
	dir := t.TempDir()
	lemf := startTestLEMF(t)
	req := writeServeRequests(t, dir, lemf.l.HI2Addr(), lemf.l.HI3Addr())
	rs := startServe(t, "--iface", "lo", "--filter-port", strconv.Itoa(int(a.Dispatch.Port())),
		"--filter-port", strconv.Itoa(int(a.NS.Port())), "--filter-port", strconv.Itoa(int(a.SB.Port())),
		"--x1-insecure", "--x1-listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--x1-request", req,
		"--metrics-listen", "127.0.0.1:0", "--block-timeout", "1ms")
	login := func(p string, v int) *msnsim.Client {
		cl, err := msnsim.Dial(ctx, msnsim.ClientConfig{Dispatch: a.Dispatch.String(), Passport: p, Version: v})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		if err := cl.Login(ctx); err != nil {
			t.Fatal(err)
		}
		return cl
	}
	alice := login(demo.Target, 15)
	login(demo.Bob, 8)
	chat, err := alice.StartChat(ctx, demo.Bob)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := chat.Send(ctx, fmt.Sprintf("live message %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, "three messages at the LEMF", func() bool { return lemf.cc.Load() >= 3 })
	_, body := scrape(t, rs.metrics+"/metrics")
	if metricValue(body, "rcds_capture_kernel_drops_total") != 0 || metricValue(body, "rcds_capture_packets_total") <= 0 {
		t.Errorf("live capture metrics missing:\n%s", body)
	}
	if err := rs.stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, rs.logs)
	}
	if lemf.cc.Load() != 3 {
		t.Errorf("%d CC records, want 3", lemf.cc.Load())
	}
}
