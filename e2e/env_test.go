package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"rcds/capture"
	"rcds/decoder"
	"rcds/hi"
	"rcds/internal/demo"
	"rcds/x1"
)

// needRoot skips the test unless it runs as root. With RCDS_REQUIRE_TOOLS=1
// (CI) a missing capability further on is a failure, not a skip.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live end-to-end test: needs root (AF_PACKET capture, network namespaces); run `sudo go test ./e2e/`")
	}
}

// record is a copy of a LEMF record and when it arrived.
type record struct {
	hi.LEMFRecord
	arrived time.Time
}

// lemfRecorder keeps what the LEMF receives.
type lemfRecorder struct {
	mu      sync.Mutex
	recs    []record
	changed chan struct{}
	onCC    func(r *hi.LEMFRecord, arrived time.Time)
}

func newRecorder() *lemfRecorder { return &lemfRecorder{changed: make(chan struct{}, 1)} }

func (l *lemfRecorder) add(r *hi.LEMFRecord) {
	now := time.Now()
	if l.onCC != nil && r.Kind == "cc" {
		l.onCC(r, now)
	}
	c := *r
	c.Raw = nil
	c.Content = bytes.Clone(r.Content)
	c.Parties = append([]string(nil), r.Parties...)
	c.To = append([]string(nil), r.To...)
	l.mu.Lock()
	l.recs = append(l.recs, record{LEMFRecord: c, arrived: now})
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// snapshot returns the IRI and CC records received so far.
func (l *lemfRecorder) snapshot() []record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []record
	for _, r := range l.recs {
		if r.Kind == "iri" || r.Kind == "cc" {
			out = append(out, r)
		}
	}
	return out
}

// waitFor waits until cond holds for the records, or fails the test at the
// deadline.
func (l *lemfRecorder) waitFor(t *testing.T, d time.Duration, what string, cond func([]record) bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond(l.snapshot()) {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for the LEMF to receive %s; it has %d records", d, what, len(l.snapshot()))
		case <-l.changed:
		case <-tick.C:
		}
	}
}

// observer sees every decoded event before the POI (all users: it is the
// test's view of what the capture saw, not something that leaves the POI).
type observer struct {
	mu      sync.Mutex
	bodies  map[string]int // message bodies → events seen
	kinds   map[decoder.Kind]int
	onEvent func(e *decoder.Event)
}

func newObserver() *observer {
	return &observer{bodies: map[string]int{}, kinds: map[decoder.Kind]int{}}
}

func (o *observer) observe(e *decoder.Event) {
	if o.onEvent != nil {
		o.onEvent(e)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.kinds[e.Kind]++
	if e.Kind == decoder.KindMessage {
		o.bodies[e.Body]++
	}
}

func (o *observer) seen(body string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bodies[body]
}

func (o *observer) kind(k decoder.Kind) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.kinds[k]
}

// waitSeen waits until the capture has decoded body at least n times.
func (o *observer) waitSeen(t *testing.T, d time.Duration, body string, n int) {
	t.Helper()
	waitCond(t, d, fmt.Sprintf("the capture to decode %q %d times", body, n), func() bool { return o.seen(body) >= n })
}

func waitCond(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(d, cond) {
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// poll reports whether cond held before the deadline.
func poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// env is the system under test: the serve components capturing live, a
// LEMF, and an X1 client with two destinations provisioned.
type env struct {
	st       *demo.Stack
	lemf     *hi.LEMF
	rec      *lemfRecorder
	obs      *observer
	cl       *x1.Client
	hi2, hi3 x1.Destination
	dir      string
	capErr   chan error
	src      capture.Source
}

// kernelDrops returns the packets the kernel dropped because the capture
// ring was full.
func (e *env) kernelDrops() uint64 {
	ks, ok := e.src.(interface {
		KernelStats() (uint64, uint64, error)
	})
	if !ok {
		return 0
	}
	_, d, err := ks.KernelStats()
	if err != nil {
		return 0
	}
	return d
}

// startEnv starts everything and the live capture on iface, limited to the
// given ports (the simulator's).
func startEnv(t *testing.T, iface string, ports []uint16, obs *observer, rec *lemfRecorder) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{rec: rec, obs: obs, dir: dir, capErr: make(chan error, 1)}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pki, err := x1.NewDemoPKI(nil, "e2e-admf")
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := pki.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	clientTLS, err := pki.ClientTLS(true)
	if err != nil {
		t.Fatal(err)
	}
	e.lemf, err = hi.NewLEMF(hi.LEMFConfig{HI2Listen: "127.0.0.1:0", HI3Listen: "127.0.0.1:0",
		RawDir: filepath.Join(dir, "lemf"), OnRecord: rec.add}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.lemf.Listen(); err != nil {
		t.Fatal(err)
	}
	lctx, lstop := context.WithCancel(context.Background())
	ldone := make(chan error, 1)
	go func() { ldone <- e.lemf.Serve(lctx) }()
	t.Cleanup(func() {
		lstop()
		if err := <-ldone; err != nil {
			t.Error(err)
		}
	})
	filter := capture.Filter{Ports: ports}
	e.st, err = demo.StartStack(context.Background(), demo.StackConfig{
		Dir:     filepath.Join(dir, "data"),
		X1TLS:   serverTLS,
		Logger:  logger,
		Capture: capture.Config{Filter: filter, FlushInterval: 100 * time.Millisecond},
		MDF:     hi.MDFConfig{OperatorID: "E2E", CountryCode: "XX"},
		Observe: obs.observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.st.Close(); err != nil {
			t.Error(err)
		}
	})
	// Short blocks for latency, many of them so that a consumer delayed by
	// a busy machine does not make the kernel drop packets.
	src, err := capture.OpenLive(iface, capture.LiveOptions{BlockTimeout: time.Millisecond, PollTimeout: 20 * time.Millisecond,
		Filter: filter, BlockSize: 256 << 10, NumBlocks: 512})
	if err != nil {
		if errors.Is(err, capture.ErrNotSupported) {
			t.Skipf("live capture not supported here: %v", err)
		}
		t.Fatalf("live capture on %s: %v", iface, err)
	}
	e.src = src
	cctx, cstop := context.WithCancel(context.Background())
	go func() { e.capErr <- e.st.Engine.Run(cctx, src) }()
	t.Cleanup(func() {
		cstop()
		if err := <-e.capErr; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("capture: %v", err)
		}
		src.Close()
	})

	e.cl = x1.NewClient(e.st.X1URL(), clientTLS, "e2e-admf", demo.NEID)
	t.Cleanup(e.cl.Close)
	e.hi2 = x1.Destination{DID: x1.NewUUID(), DeliveryType: x1.X2Only, Address: e.lemf.HI2Addr()}
	e.hi3 = x1.Destination{DID: x1.NewUUID(), DeliveryType: x1.X3Only, Address: e.lemf.HI3Addr()}
	for _, d := range []x1.Destination{e.hi2, e.hi3} {
		if _, err := e.cl.CreateDestination(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// activate provisions a task on target over X1 and returns its XID.
func (e *env) activate(ctx context.Context, target, liid string) (string, error) {
	xid := x1.NewUUID()
	_, err := e.cl.ActivateTask(ctx, x1.Task{
		XID: xid, Targets: []x1.Target{{Kind: x1.TargetEmail, Value: target}}, DeliveryType: x1.X2andX3,
		DIDs:      []string{e.hi2.DID, e.hi3.DID},
		Mediation: []x1.MediationDetails{{LIID: liid, DeliveryType: x1.HI2andHI3}},
	})
	return xid, err
}

// rawBytes returns every byte the LEMF received.
func (e *env) rawBytes(t *testing.T) []byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(e.dir, "lemf", "hi*.ber"))
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// portsOf returns the ports of addresses.
func portsOf(addrs ...netip.AddrPort) []uint16 {
	var out []uint16
	for _, a := range addrs {
		out = append(out, a.Port())
	}
	return out
}
