package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"rcds/decoder"
	"rcds/hi/etsi"
	"rcds/internal/msngen"
	"rcds/internal/testtools"
	"rcds/x1"
	"rcds/x2x3"
)

const (
	poiTestXID = "a2000000-0000-4000-8000-000000000001"
	poiTestDID = "d2000000-0000-4000-8000-000000000001"
)

// poiRun executes the root command with args and returns stdout and
// stderr (the log).
func poiRun(t *testing.T, ctx context.Context, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCommand(&globalOptions{logLevel: "info", logFormat: "text"})
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// genPOICapture writes a generated capture and returns its path and the
// events the decoder must report.
func genPOICapture(t *testing.T, dir string, opt msngen.Options) (string, []decoder.Event) {
	t.Helper()
	path := filepath.Join(dir, "gen.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []decoder.Event
	_, err = msngen.Generate(f, opt, func(e *decoder.Event) {
		c := *e
		c.To = append([]string(nil), e.To...)
		c.Raw = append([]byte(nil), e.Raw...)
		evs = append(evs, c)
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return path, evs
}

// writeTaskRequest writes an X1 document creating a destination and
// activating a task on the targets (e-mail addresses or IP addresses),
// with a warrant for the year 2006 (generated captures).
func writeTaskRequest(t *testing.T, dir string, dt x1.DeliveryType, targets ...string) string {
	t.Helper()
	return writeTaskRequestWindow(t, dir, dt, time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2007, 1, 1, 0, 0, 0, 0, time.UTC), targets...)
}

// writeTaskRequestWindow is writeTaskRequest with the warrant window
// [start, end).
func writeTaskRequestWindow(t *testing.T, dir string, dt x1.DeliveryType, start, end time.Time, targets ...string) string {
	t.Helper()
	var tg []x1.Target
	for _, s := range targets {
		k := x1.TargetEmail
		if !strings.Contains(s, "@") {
			k = x1.TargetIPv4
		}
		tg = append(tg, x1.Target{Kind: k, Value: s})
	}
	h := func(n int) x1.Header {
		return x1.Header{ADMFIdentifier: "admf-test", NEIdentifier: "rcds", Version: x1.Version,
			Timestamp:     time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
			TransactionID: "00000000-0000-4000-8000-00000000000" + strconv.Itoa(n)}
	}
	doc, err := x1.EncodeRequest(
		&x1.CreateDestinationRequest{Header: h(1), Destination: x1.Destination{DID: poiTestDID, DeliveryType: x1.X2andX3, Address: "127.0.0.1:9"}},
		&x1.ActivateTaskRequest{Header: h(2), Task: x1.Task{
			XID: poiTestXID, Targets: tg, DeliveryType: dt, DIDs: []string{poiTestDID},
			Mediation: []x1.MediationDetails{{LIID: "LIID-POI-1", DeliveryType: x1.HI2andHI3,
				StartTime: start, EndTime: end}},
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "task.xml")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readPDUs reads a raw X2/X3 stream and checks every payload decodes.
func readPDUs(t *testing.T, data []byte) []*x2x3.PDU {
	t.Helper()
	var out []*x2x3.PDU
	rd := x2x3.NewReader(bytes.NewReader(data), 0)
	for {
		p, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("PDU %d: %v", len(out)+1, err)
		}
		switch p.Type {
		case x2x3.TypeX2:
			var ip etsi.IRIPayload
			if err := etsi.UnmarshalIRIPayload(p.Payload, &ip); err != nil {
				t.Fatalf("PDU %d: X2 payload: %v", len(out)+1, err)
			}
		case x2x3.TypeX3:
			var cp etsi.CCPayload
			if err := etsi.UnmarshalCCPayload(p.Payload, &cp); err != nil {
				t.Fatalf("PDU %d: X3 payload: %v", len(out)+1, err)
			}
		default:
			t.Fatalf("PDU %d: type %s in the output", len(out)+1, p.Type)
		}
		out = append(out, p)
	}
}

// involving counts the expected events a target is involved in (an upper
// bound of the X2 PDUs: copies of one MSG make one).
func involving(evs []decoder.Event, target string) (events int) {
	tg, _ := decoder.ParseTarget(target)
	for i := range evs {
		if tg.Involves(&evs[i]) {
			events++
		}
	}
	return events
}

var poiSummary = regexp.MustCompile(`^rcds poi: (\d+) packets, \d+ flows, (\d+) events; (\d+) tasks; (\d+) X2 and (\d+) X3 PDUs .*; (\d+) PDUs, (\d+) bytes written to `)

func TestPOICommandPcapToFile(t *testing.T) {
	dir := t.TempDir()
	target := msngen.Passport(3)
	pcap, evs := genPOICapture(t, dir, msngen.Options{
		Seed: 7, Users: 12, Sessions: 8, Concurrency: 4, Targets: []string{target},
		Seg: msngen.Segmentation{Flags: msngen.AllSeg, MSS: 300}, Noise: 0.1,
	})
	req := writeTaskRequest(t, dir, x1.X2andX3, target)
	out := filepath.Join(dir, "out.x2x3")
	stdout, logs, err := poiRun(t, context.Background(), "poi", "--pcap", pcap, "--x1-request", req, "--x2x3-out", out,
		"--data", filepath.Join(dir, "data"), "--x1-listen", "")
	if err != nil {
		t.Fatalf("rcds poi: %v\n%s", err, logs)
	}
	m := poiSummary.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("summary %q", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	pdus := readPDUs(t, data)
	var nx2, nx3 int
	for _, p := range pdus {
		if p.Attrs.MatchedTarget != target {
			t.Errorf("matched target %q, want %q", p.Attrs.MatchedTarget, target)
		}
		if p.Type == x2x3.TypeX2 {
			nx2++
		} else {
			nx3++
		}
	}
	if strconv.Itoa(nx2) != m[4] || strconv.Itoa(nx3) != m[5] || strconv.Itoa(len(pdus)) != m[6] || strconv.Itoa(len(data)) != m[7] {
		t.Errorf("summary %q; file holds %d X2, %d X3, %d PDUs, %d bytes", stdout, nx2, nx3, len(pdus), len(data))
	}
	t.Logf("%s", stdout)
	if m[3] != "1" {
		t.Errorf("summary says %s tasks, want 1", m[3])
	}
	if nx2 == 0 || nx3 == 0 || nx2 > involving(evs, target) {
		t.Errorf("%d X2 and %d X3 PDUs for %d expected events involving the target", nx2, nx3, involving(evs, target))
	}
	if strings.Contains(logs, "level=ERROR") {
		t.Errorf("errors logged:\n%s", logs)
	}

	// Wireshark's own dissector on the raw stream wrapped into a pcap.
	wrap := testtools.Tool(t, "raw2pcap", "python3")
	dissect := testtools.Tool(t, "x2x3-dissect", "tshark")
	wrapped := filepath.Join(dir, "out.pcap")
	if b, err := exec.Command(wrap, out, wrapped).CombinedOutput(); err != nil {
		t.Fatalf("raw2pcap: %v\n%s", err, b)
	}
	res, _ := exec.Command(dissect, wrapped).Output() // exit 1 on malformed: judged from the summary
	sum := regexp.MustCompile(`(?m)^(\d+) PDUs dissected, (\d+) malformed$`).FindSubmatch(res)
	if sum == nil {
		t.Fatalf("x2x3-dissect: no summary in\n%s", res)
	}
	t.Logf("x2x3-dissect: %s", sum[0])
	if string(sum[1]) != strconv.Itoa(len(pdus)) || string(sum[2]) != "0" {
		t.Fatalf("x2x3-dissect: %s PDUs dissected, %s malformed; want %d, 0", sum[1], sum[2], len(pdus))
	}
}

func TestPOICommandFlags(t *testing.T) {
	dir := t.TempDir()
	pcap, _ := genPOICapture(t, dir, msngen.Options{Seed: 1, Sessions: 1})
	data := filepath.Join(dir, "data")
	cases := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no source", []string{"--x2x3-out", "x"}, "--pcap FILE or --iface IF"},
		{"two sources", []string{"--pcap", pcap, "--iface", "lo", "--x2x3-out", "x"}, "exclude each other"},
		{"no sink", []string{"--pcap", pcap}, "--mdf HOST:PORT or --x2x3-out FILE"},
		{"two sinks", []string{"--pcap", pcap, "--mdf", "127.0.0.1:1", "--x2x3-out", filepath.Join(dir, "o")}, "exclude each other"},
		{"tls without mdf", []string{"--pcap", pcap, "--x2x3-out", filepath.Join(dir, "o2"), "--mdf-ca", "ca.pem"}, "need --mdf"},
		{"cert without ca", []string{"--pcap", pcap, "--mdf", "127.0.0.1:1", "--mdf-cert", "c.pem", "--mdf-key", "k.pem"}, "need --mdf-ca"},
		{"bad port", []string{"--pcap", pcap, "--x2x3-out", "x", "--filter-port", "70000"}, "not a port"},
		{"bad host", []string{"--pcap", pcap, "--x2x3-out", "x", "--filter-host", "nowhere"}, "--filter-host"},
		{"missing file", []string{"--pcap", filepath.Join(dir, "none.pcap"), "--x2x3-out", filepath.Join(dir, "o3")}, "none.pcap"},
		{"missing request", []string{"--pcap", pcap, "--x2x3-out", filepath.Join(dir, "o4"), "--x1-request", filepath.Join(dir, "none.xml")}, "--x1-request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"poi", "--data", data, "--x1-listen", ""}, c.args...)
			_, logs, err := poiRun(t, context.Background(), args...)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one mentioning %q\n%s", err, c.wantErr, logs)
			}
		})
	}
}

// collectHandler is an x2x3.Handler that keeps what it is given.
type collectHandler struct {
	mu   sync.Mutex
	pdus []*x2x3.PDU
}

func (h *collectHandler) HandlePDU(_ context.Context, p *x2x3.PDU) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pdus = append(h.pdus, p)
	return nil
}

func (h *collectHandler) Flush(context.Context) error { return nil }

// TestPOICommandPcapToMDF runs `rcds poi --pcap --mdf` against a loopback
// receiver, over plain TCP and over mutual TLS: it exits 0 only once the
// receiver confirmed every PDU, and the receiver holds exactly what
// `--x2x3-out` writes for the same input.
func TestPOICommandPcapToMDF(t *testing.T) {
	dir := t.TempDir()
	target := msngen.Passport(2)
	pcap, _ := genPOICapture(t, dir, msngen.Options{Seed: 11, Users: 8, Sessions: 5, Targets: []string{target}})
	req := writeTaskRequest(t, dir, x1.X2andX3, target)
	out := filepath.Join(dir, "out.x2x3")
	if _, logs, err := poiRun(t, context.Background(), "poi", "--pcap", pcap, "--x1-request", req, "--x2x3-out", out,
		"--data", filepath.Join(dir, "data-file"), "--x1-listen", ""); err != nil {
		t.Fatalf("rcds poi --x2x3-out: %v\n%s", err, logs)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := readPDUs(t, data)

	pki, err := x1.NewDemoPKI([]string{"127.0.0.1"}, "rcds-poi")
	if err != nil {
		t.Fatal(err)
	}
	files, err := pki.Write(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := pki.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		tls   *tls.Config
		flags []string
	}{
		{"tcp", nil, nil},
		{"mutual tls", serverTLS, []string{"--mdf-ca", files.CACert, "--mdf-cert", files.ClientCert, "--mdf-key", files.ClientKey}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			h := &collectHandler{}
			rcv := x2x3.NewReceiver(x2x3.ReceiverConfig{TLS: c.tls}, h, slog.New(slog.DiscardHandler))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- rcv.Serve(ctx, ln) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()
			args := append([]string{"poi", "--pcap", pcap, "--x1-request", req, "--mdf", ln.Addr().String(),
				"--data", filepath.Join(dir, "data"+strconv.Itoa(i)), "--x1-listen", "", "--flush-timeout", "60s"}, c.flags...)
			stdout, logs, err := poiRun(t, context.Background(), args...)
			if err != nil {
				t.Fatalf("rcds poi --mdf: %v\n%s", err, logs)
			}
			if !strings.Contains(stdout, fmt.Sprintf("%d confirmed", len(want))) {
				t.Errorf("summary %q does not report %d PDUs confirmed", stdout, len(want))
			}
			h.mu.Lock()
			got := h.pdus
			h.mu.Unlock()
			if len(want) == 0 || len(got) != len(want) {
				t.Fatalf("the MDF received %d PDUs, the file holds %d", len(got), len(want))
			}
			for i := range want {
				a, _ := got[i].MarshalBinary()
				b, _ := want[i].MarshalBinary()
				if !bytes.Equal(a, b) {
					t.Fatalf("PDU %d differs between --mdf and --x2x3-out", i+1)
				}
			}
			if st := rcv.Stats(); st.Keepalives == 0 || st.Refused != 0 {
				t.Errorf("receiver stats %+v", st)
			}
		})
	}
}
