package hi

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"rcds/hi/etsi"
	"rcds/internal/testtools"
	"rcds/store"
	"rcds/x1"
	"rcds/x2x3"
)

// testLogger logs to the test output when -v is given, else discards.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// fastTimings make the tests quick: short option wait, keep-alives and
// reconnects.
func fastTimings() DeliveryTimings {
	return DeliveryTimings{
		DialTimeout:       2 * time.Second,
		WriteTimeout:      2 * time.Second,
		OptionTimeout:     300 * time.Millisecond,
		KeepaliveInterval: 200 * time.Millisecond,
		ProbeTimeout:      10 * time.Second,
		BackoffMin:        20 * time.Millisecond,
		BackoffMax:        200 * time.Millisecond,
	}
}

func baseConfig() MDFConfig {
	return MDFConfig{
		OperatorID:       "RCDS",
		NetworkElementID: "mdf-1",
		CountryCode:      "DE",
		Timings:          fastTimings(),
	}
}

// env is a store, registry and MDF in a temporary directory.
type env struct {
	t   testing.TB
	dir string
	db  *store.DB
	reg *x1.Registry
	mdf *MDF
	cfg MDFConfig

	cancel context.CancelFunc
	done   chan struct{}
}

func newEnv(t testing.TB, cfg MDFConfig) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), cfg: cfg}
	e.open()
	t.Cleanup(e.close)
	return e
}

func (e *env) open() {
	e.t.Helper()
	db, err := store.Open(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	reg, err := x1.OpenRegistry(db, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := NewMDF(e.cfg, reg, db, testLogger(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	e.db, e.reg, e.mdf = db, reg, m
}

// run starts delivery.
func (e *env) run() {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.done = make(chan struct{})
	go func() {
		defer close(e.done)
		e.mdf.Run(ctx)
	}()
}

func (e *env) stop() {
	if e.cancel != nil {
		e.cancel()
		<-e.done
		e.cancel = nil
	}
}

func (e *env) close() {
	if e.mdf == nil {
		return
	}
	e.stop()
	e.mdf.Close()
	e.db.Close()
	e.mdf = nil
}

// reopen simulates a clean restart of the MDF on the same data directory.
func (e *env) reopen() {
	e.close()
	e.open()
}

func (e *env) apply(req x1.Request) {
	e.t.Helper()
	resp := e.reg.Apply(context.Background(), "test", req)
	if resp.Error != nil {
		e.t.Fatalf("X1 %s: %+v", req.Type(), resp.Error)
	}
}

func (e *env) createDest(did string, dt x1.DeliveryType, addr string) {
	e.t.Helper()
	e.apply(&x1.CreateDestinationRequest{Destination: x1.Destination{DID: did, DeliveryType: dt, Address: addr}})
}

func (e *env) activate(xid string, md ...x1.MediationDetails) {
	e.t.Helper()
	var dids []string
	var x2, x3 bool
	for _, m := range md {
		for _, d := range m.DIDs {
			if !slices.Contains(dids, d) {
				dids = append(dids, d)
			}
		}
		x2 = x2 || m.DeliveryType != x1.HI3Only
		x3 = x3 || m.DeliveryType != x1.HI2Only
	}
	dt := x1.X2andX3
	if !x2 {
		dt = x1.X3Only
	} else if !x3 {
		dt = x1.X2Only
	}
	e.apply(&x1.ActivateTaskRequest{Task: x1.Task{
		XID:          xid,
		Targets:      []x1.Target{{Kind: x1.TargetEmail, Value: "target@example.com"}},
		DeliveryType: dt,
		DIDs:         dids,
		Mediation:    md,
	}})
}

func mustXID(t testing.TB, s string) [16]byte {
	x, ok := parseXID(s)
	if !ok {
		t.Fatalf("bad XID %q", s)
	}
	return x
}

// Fixed identifiers of the tests.
const (
	xidA   = "11111111-2222-4333-8444-555555555555"
	xidB   = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	didHI2 = "d0000000-0000-4000-8000-000000000002"
	didHI3 = "d0000000-0000-4000-8000-000000000003"
	did671 = "d0000000-0000-4000-8000-000000000671"
	didBad = "d0000000-0000-4000-8000-0000000000ba"
)

var baseTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// pduGen makes X2/X3 PDUs of one task the way the POI does: an IRI and a
// CC per message, the same event identifier on both, sequence numbers per
// XID.
type pduGen struct {
	t   testing.TB
	xid [16]byte
	seq uint32
}

func (g *pduGen) stamp(p *x2x3.PDU, i int) *x2x3.PDU {
	s := g.seq
	g.seq++
	p.Version = x2x3.Version
	p.XID = g.xid
	p.Attrs.SeqNo = &s
	p.Attrs.Timestamp = baseTime.Add(time.Duration(i) * time.Millisecond)
	p.Attrs.MatchedTarget = "target@example.com"
	return p
}

// message returns the X2 and X3 PDUs of message i in communication corr.
func (g *pduGen) message(i int, corr uint64) (*x2x3.PDU, *x2x3.PDU) {
	g.t.Helper()
	ts := baseTime.Add(time.Duration(i) * time.Millisecond)
	ev := uint32(i + 1)
	iri := etsi.NewIRIPayload(etsi.IRIContinue, ts, etsi.NewMessageIRI(ev, "target@example.com", []string{"peer@example.net"}))
	dir := etsi.FromTarget
	iri.PayloadDirection = &dir
	ib, err := etsi.MarshalIRIPayload(iri)
	if err != nil {
		g.t.Fatal(err)
	}
	cc := etsi.NewCCPayload(etsi.FromTarget, ts, etsi.NewMessagingCC(ev, "text/plain; charset=UTF-8", messageBody(i)))
	cb, err := etsi.MarshalCCPayload(cc)
	if err != nil {
		g.t.Fatal(err)
	}
	x2 := g.stamp(&x2x3.PDU{Type: x2x3.TypeX2, Format: x2x3.FormatETSI102232, Direction: x2x3.DirFromTarget, CorrelationID: corr, Payload: ib}, i)
	x3 := g.stamp(&x2x3.PDU{Type: x2x3.TypeX3, Format: x2x3.FormatETSI102232, Direction: x2x3.DirFromTarget, CorrelationID: corr, Payload: cb}, i)
	return x2, x3
}

// iri returns an X2 PDU of another kind (login), for variety.
func (g *pduGen) login(i int, corr uint64) *x2x3.PDU {
	g.t.Helper()
	ts := baseTime.Add(time.Duration(i) * time.Millisecond)
	ib, err := etsi.MarshalIRIPayload(etsi.NewIRIPayload(etsi.IRIReport, ts, etsi.NewLoginIRI("target@example.com")))
	if err != nil {
		g.t.Fatal(err)
	}
	return g.stamp(&x2x3.PDU{Type: x2x3.TypeX2, Format: x2x3.FormatETSI102232, Direction: x2x3.DirFromTarget, CorrelationID: corr, Payload: ib}, i)
}

func messageBody(i int) []byte {
	return []byte(fmt.Sprintf("synthetic message %d\r\n", i))
}

// collector gathers the records a LEMF hands to OnRecord.
type collector struct {
	mu      sync.Mutex
	recs    []LEMFRecord
	changed chan struct{}
}

func newCollector() *collector { return &collector{changed: make(chan struct{}, 1)} }

func (c *collector) add(r *LEMFRecord) {
	c.mu.Lock()
	cp := *r
	cp.Raw = append([]byte(nil), r.Raw...)
	c.recs = append(c.recs, cp)
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// data returns the IRI and CC records received so far.
func (c *collector) data() []LEMFRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []LEMFRecord
	for _, r := range c.recs {
		if r.Kind == "iri" || r.Kind == "cc" {
			out = append(out, r)
		}
	}
	return out
}

func (c *collector) kinds() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]int{}
	for _, r := range c.recs {
		m[r.Kind]++
	}
	return m
}

// waitFor polls cond until it holds; the deadline only protects the test
// run from hanging (nothing is asserted about time).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startLEMF runs a LEMF until the test ends (or stopLEMF).
type lemfRun struct {
	l      *LEMF
	cancel context.CancelFunc
	done   chan error
}

func startLEMF(t testing.TB, cfg LEMFConfig) *lemfRun {
	t.Helper()
	if cfg.HI2Listen == "" && cfg.HI3Listen == "" {
		cfg.HI2Listen, cfg.HI3Listen = "127.0.0.1:0", "127.0.0.1:0"
	}
	l, err := NewLEMF(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	r := &lemfRun{l: l}
	r.start(t)
	t.Cleanup(r.stop)
	return r
}

func (r *lemfRun) start(t testing.TB) {
	t.Helper()
	if err := r.l.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done = make(chan error, 1)
	go func() { r.done <- r.l.Serve(ctx) }()
}

func (r *lemfRun) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

// decodeRaw runs ../shared/tools/etsi-ber-decode pspdu on every raw file
// of dir and returns the number of records it decoded.
func decodeRaw(t testing.TB, dir string) int {
	t.Helper()
	tool := testtools.Tool(t, "etsi-ber-decode", "erl")
	files, err := filepath.Glob(filepath.Join(dir, "hi*.ber"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no raw files in %s (%v)", dir, err)
	}
	total := 0
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() == 0 {
			continue // a connection that sent nothing (the tool refuses empty input)
		}
		out, err := exec.Command(tool, "pspdu", f).CombinedOutput()
		if err != nil {
			t.Fatalf("etsi-ber-decode pspdu %s: %v\n%s", filepath.Base(f), err, tail(out))
		}
		var n int
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if _, err := fmt.Sscanf(lines[len(lines)-1], "%d records decoded", &n); err != nil {
			t.Fatalf("etsi-ber-decode pspdu %s: unexpected last line %q", filepath.Base(f), lines[len(lines)-1])
		}
		total += n
	}
	return total
}

// decodeRawPrefix is decodeRaw for streams that may have been cut by an
// abrupt close: each file is cut after its last complete record (found by
// our own splitter) and the tool must decode all of that. The number of
// bytes cut is logged.
func decodeRawPrefix(t testing.TB, dir string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "hi*.ber"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no raw files in %s (%v)", dir, err)
	}
	cut := t.TempDir()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rr := etsi.NewRecordReader(bytes.NewReader(data), 1<<24)
		n := 0
		for {
			rec, err := rr.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("%s: not a record stream at offset %d: %v", filepath.Base(f), n, err)
				}
				break
			}
			n += len(rec)
		}
		if n < len(data) {
			t.Logf("%s: %d bytes after the last complete record (connection cut)", filepath.Base(f), len(data)-n)
		}
		if err := os.WriteFile(filepath.Join(cut, filepath.Base(f)), data[:n], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return decodeRaw(t, cut)
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func u32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }
