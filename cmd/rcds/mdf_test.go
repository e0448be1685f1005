package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rcds/hi/etsi"
	"rcds/internal/testtools"
	"rcds/x1"
	"rcds/x2x3"
)

const (
	mdfXID    = "c0000000-0000-4000-8000-000000000001"
	mdfDIDHI2 = "c0000000-0000-4000-8000-0000000000d2"
	mdfDIDHI3 = "c0000000-0000-4000-8000-0000000000d3"
)

// writeX1 writes an X1Request document with reqs.
func writeX1(t *testing.T, path string, reqs ...x1.Request) string {
	t.Helper()
	for i, r := range reqs {
		h := r.Head()
		h.ADMFIdentifier, h.NEIdentifier, h.Version = "admf", "rcds", x1.Version
		h.Timestamp = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		h.TransactionID = "00000000-0000-4000-8000-00000000001" + string(rune('0'+i))
	}
	doc, err := x1.EncodeRequest(reqs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMDFCommandErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := []string{"mdf", "--data", filepath.Join(dir, "data"), "--x1-listen", "", "--x2x3-listen", "127.0.0.1:0"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no operator", []string{"--country-code", "DE"}, "--operator-id"},
		{"no country", []string{"--operator-id", "OP"}, "--country-code"},
		{"bad country", []string{"--operator-id", "OP", "--country-code", "DEU"}, "country code"},
		{"long operator", []string{"--operator-id", "OPERATOR-ID-LONGER-THAN-16", "--country-code", "DE"}, "operator ID"},
		{"missing file", []string{"--operator-id", "OP", "--country-code", "DE", "--destinations", filepath.Join(dir, "none.yaml")}, "--destinations"},
		{"unknown key", []string{"--operator-id", "OP", "--country-code", "DE", "--destinations",
			write("unknown.yaml", "default:\n  profil: \"101671\"\n")}, "profil"},
		{"bad profile", []string{"--operator-id", "OP", "--country-code", "DE", "--destinations",
			write("profile.yaml", "destinations:\n  "+mdfDIDHI2+":\n    profile: \"999\"\n")}, "profile"},
		{"not a DID", []string{"--operator-id", "OP", "--country-code", "DE", "--destinations",
			write("did.yaml", "destinations:\n  lemf-1:\n    integrity: true\n")}, "not a DID"},
		{"671 operator", []string{"--operator-id", "OPERATOR", "--country-code", "DE", "--destinations",
			write("op671.yaml", "default:\n  profile: \"101671\"\n")}, "at most 5 octets"},
		{"bad TLS CA", []string{"--operator-id", "OP", "--country-code", "DE", "--destinations",
			write("tls.yaml", "default:\n  tls:\n    ca: "+filepath.Join(dir, "none.pem")+"\n")}, "tls ca"},
		{"partial X2/X3 TLS", []string{"--operator-id", "OP", "--country-code", "DE", "--x2x3-cert", "c.pem"}, "--x2x3-key"},
		{"config typo", []string{"--config", write("typo.yaml", "operator-ID: OP\n")}, "unknown key"},
		{"profiles twice", []string{"--config", write("both.yaml", "operator-id: OP\ncountry-code: DE\ndestinations:\n  "+mdfDIDHI2+":\n    integrity: true\n"),
			"--destinations", write("d2.yaml", "default:\n  integrity: true\n")}, "one place"},
		{"config bad profile", []string{"--config", write("cfgprofile.yaml", "operator-id: OP\ncountry-code: DE\ndefault-destination:\n  profile: \"1\"\n")}, "profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := execRoot(t.Context(), append(base, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestLoadDestinations(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d.yaml")
	body := "default:\n  integrity: true\n  queue_max_records: 50\n" +
		"destinations:\n  " + strings.ToUpper(mdfDIDHI2) + ":\n    profile: \"101671\"\n    integrity_group: 8\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	def, dests, err := loadDestinations(p)
	if err != nil {
		t.Fatal(err)
	}
	if !def.Integrity || def.QueueMaxRecords != 50 || len(dests) != 1 {
		t.Fatalf("default %+v, %d destinations", def, len(dests))
	}
	d, ok := dests[mdfDIDHI2] // keys are lower-cased
	if !ok || d.Profile != "101671" || d.IntegrityGroup != 8 || d.Integrity {
		t.Fatalf("destination %+v %v", d, ok)
	}
}

// TestMDFCommandEndToEnd runs `rcds lemf` and `rcds mdf` (provisioned with
// --x1-request files, configured with --config), sends X2/X3 from an
// x2x3.Sender like a remote POI, and checks what the LEMF wrote; then the
// independent decoder reads the raw HI streams. With TLS, X2/X3 is mutual
// TLS and both HI connections are TLS.
func TestMDFCommandEndToEnd(t *testing.T) {
	t.Run("tcp", func(t *testing.T) { mdfEndToEnd(t, false) })
	t.Run("tls", func(t *testing.T) { mdfEndToEnd(t, true) })
}

func mdfEndToEnd(t *testing.T, useTLS bool) {
	dir := t.TempDir()
	hi2, hi3, x2x3Addr := freeAddr(t), freeAddr(t), freeAddr(t)
	outFile, rawDir := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "raw")
	cfgYAML := filepath.Join(dir, "mdf.yaml")
	cfg := "operator-id: RCDS-OP\nnetwork-element-id: mdf-7\ncountry-code: NL\n" +
		"destinations:\n  " + mdfDIDHI2 + ":\n    integrity: true\n"
	var lemfTLS, mdfTLS []string
	var senderTLS *tls.Config
	if useTLS {
		pki, err := x1.WriteDemoPKI(filepath.Join(dir, "pki"), []string{"127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		cfg += "default-destination:\n  tls:\n    ca: " + pki.CACert + "\n"
		lemfTLS = []string{"--tls-cert", pki.ServerCert, "--tls-key", pki.ServerKey}
		mdfTLS = []string{"--x2x3-cert", pki.ServerCert, "--x2x3-key", pki.ServerKey, "--x2x3-client-ca", pki.CACert}
		if senderTLS, err = x1.ClientTLSConfig(pki.CACert, pki.ClientCert, pki.ClientKey); err != nil {
			t.Fatal(err)
		}
		// The HI2 destination's own profile needs the TLS settings too.
		cfg = strings.Replace(cfg, "    integrity: true\n", "    integrity: true\n    tls:\n      ca: "+pki.CACert+"\n", 1)
	}
	if err := os.WriteFile(cfgYAML, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	dests := writeX1(t, filepath.Join(dir, "dest.xml"),
		&x1.CreateDestinationRequest{Destination: x1.Destination{DID: mdfDIDHI2, DeliveryType: x1.X2Only, Address: hi2}},
		&x1.CreateDestinationRequest{Destination: x1.Destination{DID: mdfDIDHI3, DeliveryType: x1.X3Only, Address: hi3}})
	task := writeX1(t, filepath.Join(dir, "task.xml"),
		&x1.ActivateTaskRequest{Task: x1.Task{XID: mdfXID, DeliveryType: x1.X2andX3, DIDs: []string{mdfDIDHI2, mdfDIDHI3},
			Targets:   []x1.Target{{Kind: x1.TargetEmail, Value: "alice@example.com"}},
			Mediation: []x1.MediationDetails{{LIID: "CMD-LIID", DeliveryType: x1.HI2andHI3}}}})

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type result struct {
		out, logs string
		err       error
	}
	lemfDone, mdfDone := make(chan result, 1), make(chan result, 1)
	go func() {
		out, logs, err := execRoot(ctx, append([]string{"lemf", "--hi2-listen", hi2, "--hi3-listen", hi3, "--out", outFile, "--raw-dir", rawDir, "--quiet"}, lemfTLS...)...)
		lemfDone <- result{out, logs, err}
	}()
	go func() {
		out, logs, err := execRoot(ctx, append([]string{"mdf", "--data", filepath.Join(dir, "data"), "--x1-listen", "",
			"--x1-request", dests, "--x1-request", task, "--x2x3-listen", x2x3Addr,
			"--config", cfgYAML}, mdfTLS...)...)
		mdfDone <- result{out, logs, err}
	}()

	xid, _ := parseUUID(mdfXID)
	snd := x2x3.NewSender(x2x3.SenderConfig{Addr: x2x3Addr, TLS: senderTLS, BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond}, slog.New(slog.DiscardHandler))
	sctx, scancel := context.WithCancel(ctx)
	go snd.Run(sctx)
	const n = 20
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		ts := base.Add(time.Duration(i) * time.Second)
		ev := uint32(i + 1)
		ib, err := etsi.MarshalIRIPayload(etsi.NewIRIPayload(etsi.IRIContinue, ts, etsi.NewMessageIRI(ev, "alice@example.com", []string{"bob@example.org"})))
		if err != nil {
			t.Fatal(err)
		}
		cb, err := etsi.MarshalCCPayload(etsi.NewCCPayload(etsi.FromTarget, ts, etsi.NewMessagingCC(ev, "text/plain", []byte("message body"))))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []*x2x3.PDU{
			{Type: x2x3.TypeX2, Format: x2x3.FormatETSI102232, Direction: x2x3.DirFromTarget, XID: xid, CorrelationID: 9, Payload: ib},
			{Type: x2x3.TypeX3, Format: x2x3.FormatETSI102232, Direction: x2x3.DirFromTarget, XID: xid, CorrelationID: 9, Payload: cb},
		} {
			s := uint32(2*i) + uint32(p.Type) - 1
			p.Attrs.SeqNo, p.Attrs.Timestamp = &s, ts
			if err := snd.Send(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := snd.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	scancel()
	snd.Close()

	var lines []map[string]any
	waitUntil(t, func() bool {
		data, _ := os.ReadFile(outFile)
		lines = lines[:0]
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && (m["kind"] == "iri" || m["kind"] == "cc") {
				lines = append(lines, m)
			}
		}
		return len(lines) >= 2*n
	})
	cancel()
	mr, lr := <-mdfDone, <-lemfDone
	if mr.err != nil || lr.err != nil {
		t.Fatalf("mdf: %v\n%s\nlemf: %v\n%s", mr.err, mr.logs, lr.err, lr.logs)
	}
	if len(lines) != 2*n {
		t.Fatalf("%d records, want %d", len(lines), 2*n)
	}
	for _, m := range lines {
		if m["liid"] != "CMD-LIID" || m["cin"] != 1.0 || m["duplicate"] == true {
			t.Fatalf("record %v", m)
		}
	}
	if !strings.Contains(mr.out, "mdf: X2/X3 on "+x2x3Addr) || !strings.Contains(mr.out, "40 records queued") {
		t.Errorf("mdf output:\n%s", mr.out)
	}
	// Every HI stream decodes with the independent decoder.
	tool := testtools.Tool(t, "etsi-ber-decode", "erl")
	files, _ := filepath.Glob(filepath.Join(rawDir, "hi*.ber"))
	if len(files) < 2 {
		t.Fatalf("raw files %v", files)
	}
	for _, f := range files {
		if out, err := exec.Command(tool, "pspdu", f).CombinedOutput(); err != nil {
			t.Fatalf("etsi-ber-decode %s: %v\n%s", f, err, out)
		} else if !strings.Contains(string(out), `"operatorIdentifier":"RCDS-OP"`) || !strings.Contains(string(out), `"deliveryCountryCode":"NL"`) {
			t.Fatalf("%s: header fields not from the configuration", f)
		} else if strings.Contains(f, "hi2") && !strings.Contains(string(out), `"integrityCheck"`) {
			t.Fatalf("%s: no integrity checks although the destination has them", f)
		}
	}
}

// parseUUID turns an X1 UUID into the 16 bytes of an X2/X3 XID.
func parseUUID(s string) ([16]byte, bool) {
	var x [16]byte
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 {
		return x, false
	}
	for i := 0; i < 16; i++ {
		var b byte
		for _, c := range h[2*i : 2*i+2] {
			b <<= 4
			switch {
			case c >= '0' && c <= '9':
				b |= byte(c - '0')
			case c >= 'a' && c <= 'f':
				b |= byte(c-'a') + 10
			default:
				return x, false
			}
		}
		x[i] = b
	}
	return x, true
}
