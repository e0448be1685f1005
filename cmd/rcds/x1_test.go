package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"rcds/store"
	"rcds/x1"
)

// execRoot runs the root command with args and returns stdout, stderr and
// the error.
func execRoot(ctx context.Context, args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	root := newRootCommand(&globalOptions{})
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), errb.String(), err
}

func TestCertsCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	out, _, err := execRoot(t.Context(), "certs", "--out", dir, "--host", "ne.example", "--host", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ca.pem", "ca-key.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem"} {
		if !strings.Contains(out, filepath.Join(dir, f)) {
			t.Errorf("output does not name %s:\n%s", f, out)
		}
	}
	srv, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Leaf.VerifyHostname("ne.example"); err != nil {
		t.Error(err)
	}
	if err := srv.Leaf.VerifyHostname("192.0.2.1"); err != nil {
		t.Error(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "client-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("client key mode: %v %v", fi.Mode(), err)
	}
	if _, _, err := execRoot(t.Context(), "certs"); err == nil {
		t.Error("certs without --out accepted")
	}
}

// x1Env is an NE with a mutual-TLS X1 endpoint for the client commands.
type x1Env struct {
	pki  x1.PKIFiles
	reg  *x1.Registry
	url  string
	conn []string // the connection flags
}

func newX1Env(t *testing.T) *x1Env {
	t.Helper()
	pki, err := x1.WriteDemoPKI(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg, err := x1.OpenRegistry(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := x1.NewServer(x1.ServerConfig{Addr: "127.0.0.1:0", CertFile: pki.ServerCert, KeyFile: pki.ServerKey, ClientCAFile: pki.CACert}, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return &x1Env{pki: pki, reg: reg, url: srv.URL(),
		conn: []string{"--server", srv.URL(), "--ca", pki.CACert, "--cert", pki.ClientCert, "--key", pki.ClientKey}}
}

const (
	tDID  = "d1000000-0000-4000-8000-000000000001"
	tDID3 = "d1000000-0000-4000-8000-000000000003"
	tXID  = "a1000000-0000-4000-8000-00000000000a"
)

// TestX1Commands drives an NE with the client subcommands, checking what
// they print and what the NE then holds.
func TestX1Commands(t *testing.T) {
	e := newX1Env(t)
	steps := []struct {
		args    []string
		want    string // exact output, or a regexp when it starts with "(?"
		wantErr bool
	}{
		{args: []string{"ping"}, want: "PingResponse: AcknowledgedAndCompleted\n"},
		{args: []string{"keepalive"}, want: "KeepaliveResponse: AcknowledgedAndCompleted\n"},
		{args: []string{"create-destination", "--did", tDID, "--address", "192.0.2.5:6000", "--name", "lemf-1", "--delivery", "X2Only"},
			want: "CreateDestinationResponse: AcknowledgedAndCompleted\n"},
		{args: []string{"create-destination", "--did", tDID3, "--address", "lemf.example:6001"},
			want: "CreateDestinationResponse: AcknowledgedAndCompleted\n"},
		{args: []string{"create-destination", "--address", "[2001:db8::9]:6002"},
			want: `(?s)^CreateDestinationResponse: AcknowledgedAndCompleted\nDID [0-9a-f-]{36}\n$`},
		{args: []string{"activate", "--xid", tXID, "--target", "Alice@Example.com", "--target", "ipv4:192.0.2.77", "--did", tDID3,
			"--liid", "LIID-1", "--start", "2026-01-01T00:00:00Z", "--end", "2027-01-01T00:00:00Z", "--implicit-deactivation", "--correlation-id", "7"},
			want: "ActivateTaskResponse: AcknowledgedAndCompleted\n"},
		{args: []string{"activate", "--xid", tXID, "--target", "bob@example.com", "--did", tDID3}, wantErr: true,
			want: "ActivateTask refused: error 2010: " + tXID + "\n"},
		{args: []string{"activate", "--target", "bob@example.com", "--did", "d1000000-0000-4000-8000-0000000000ff"}, wantErr: true,
			want: "ActivateTask refused: error 2040: d1000000-0000-4000-8000-0000000000ff\n"},
		{args: []string{"activate", "--target", "bob@example.com", "--did", tDID}, wantErr: true,
			want: `(?s)^ActivateTask refused: error 3040: .*X3`},
		{args: []string{"get", tXID}, want: "task " + tXID + "\n" +
			"  target:        emailAddress Alice@Example.com\n" +
			"  target:        ipv4Address 192.0.2.77\n" +
			"  delivery:      X2andX3 to " + tDID3 + "\n" +
			"  LIID LIID-1: HI2andHI3 to " + tDID3 + ", from 2026-01-01T00:00:00Z until 2027-01-01T00:00:00Z\n" +
			"  correlationID: 7\n" +
			"  implicit deactivation allowed: true\n"},
		{args: []string{"modify", "--xid", tXID, "--target", "email:alice@example.com", "--did", tDID3, "--did", tDID, "--delivery", "X2andX3"},
			want: "ModifyTaskResponse: AcknowledgedAndCompleted\n"},
		{args: []string{"get-task", tXID}, want: `(?s)target:        emailAddress alice@example.com\n.*delivery:      X2andX3 to ` + tDID3 + ", " + tDID + `\n.*modified 1 times`},
		{args: []string{"modify-destination", "--did", tDID, "--address", "192.0.2.6:6000", "--delivery", "X2andX3"},
			want: "ModifyDestinationResponse: AcknowledgedAndCompleted\n"},
		{args: []string{"get-destination", tDID}, want: "destination " + tDID + "\n  delivery: X2andX3\n  address:  192.0.2.6:6000\n"},
		{args: []string{"list"}, want: `(?s)^tasks: 1\n  ` + tXID + `\ndestinations: 3\n(  [0-9a-f-]{36}\n){3}$`},
		{args: []string{"get-all"}, want: `(?s)^NE status: OK\ntasks: 1\n  task ` + tXID + `\n.*destinations: 3\n.*  destination ` + tDID + `\n    delivery: X2andX3\n    address:  192.0.2.6:6000\n.*address:  tcp://lemf.example:6001\n`},
		{args: []string{"remove-destination", tDID}, wantErr: true, want: "RemoveDestination refused: error 7010: " + tXID + "\n"},
		{args: []string{"deactivate", tXID}, want: "DeactivateTaskResponse: AcknowledgedAndCompleted\n"},
		{args: []string{"deactivate", tXID}, wantErr: true, want: "DeactivateTask refused: error 2020: " + tXID + "\n"},
		{args: []string{"remove-destination", tDID}, want: "RemoveDestinationResponse: AcknowledgedAndCompleted\n"},
		{args: []string{"deactivate-all"}, want: "DeactivateAllTasksResponse: AcknowledgedAndCompleted\n"},
		{args: []string{"ping", "--xml"}, want: `(?s)^<\?xml version="1.0" encoding="UTF-8"\?>\n<x1:X1Response .*<x1:oK>AcknowledgedAndCompleted</x1:oK>.*</x1:X1Response>\n$`},
		{args: []string{"activate", "--target", "+447700900000", "--did", tDID3}, wantErr: true, want: ""}, // not a passport or address: refused locally
	}
	for _, s := range steps {
		name := strings.Join(s.args, " ")
		out, _, err := execRoot(t.Context(), append(append([]string{"x1"}, s.args...), e.conn...)...)
		if (err != nil) != s.wantErr {
			t.Errorf("%s: err = %v, want error %v", name, err, s.wantErr)
		}
		if strings.HasPrefix(s.want, "(?") {
			if !regexp.MustCompile(s.want).MatchString(out) {
				t.Errorf("%s: output\n%s\ndoes not match %s", name, out, s.want)
			}
		} else if out != s.want {
			t.Errorf("%s: output\n%s\nwant\n%s", name, out, s.want)
		}
	}
	if n := len(e.reg.Tasks()); n != 0 {
		t.Errorf("%d tasks left", n)
	}
	if n := len(e.reg.Destinations()); n != 2 {
		t.Errorf("%d destinations left, want 2", n)
	}
}

// TestX1CommandRefusals: without a client certificate, or talking plain
// HTTP to a TLS endpoint, the client fails; misuse of the flags is caught
// before anything is sent.
func TestX1CommandRefusals(t *testing.T) {
	e := newX1Env(t)
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"no client certificate", []string{"ping", "--server", e.url, "--ca", e.pki.CACert}, "certificate"},
		{"untrusted server", []string{"ping", "--server", e.url, "--cert", e.pki.ClientCert, "--key", e.pki.ClientKey}, "certificate"},
		{"insecure with https", []string{"ping", "--server", e.url, "--insecure"}, "--insecure needs an http://"},
		{"http without insecure", []string{"ping", "--server", "http://127.0.0.1:1/X1/NE"}, "https://"},
		{"missing address", append([]string{"create-destination"}, e.conn...), "--address"},
		{"missing target", append([]string{"activate", "--did", tDID}, e.conn...), "--target"},
		{"time without LIID", append([]string{"activate", "--target", "a@example.com", "--end", "2027-01-01T00:00:00Z"}, e.conn...), "--liid"},
		{"modify without XID", append([]string{"modify", "--target", "a@example.com"}, e.conn...), "--xid"},
	}
	for _, c := range cases {
		out, _, err := execRoot(t.Context(), append([]string{"x1"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v (output %q), want one mentioning %q", c.name, err, out, c.msg)
		}
	}
}

// TestX1SendCommand posts a raw document and prints the raw answer.
func TestX1SendCommand(t *testing.T) {
	e := newX1Env(t)
	ping, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "etsi", "examples", "x1-sipgate-lib", "MultiRequest_example.xml"))
	if err != nil {
		t.Skipf("shared examples: %v", err)
	}
	f := filepath.Join(t.TempDir(), "multi.xml")
	if err := os.WriteFile(f, ping, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := execRoot(t.Context(), append([]string{"x1", "send", f}, e.conn...)...)
	if err != nil {
		t.Fatal(err)
	}
	d, err := x1.DecodeResponse([]byte(out))
	if err != nil || len(d.Responses) != 2 || d.Responses[1].TransactionID != "3741800e-971b-4aa9-85f4-466d2b1adc80" {
		t.Errorf("answer %+v, %v", d, err)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeCommand runs `rcds serve` with an X1 endpoint on a free port,
// provisions it with the client commands, stops it, and starts it again
// on the same data directory.
func TestServeCommand(t *testing.T) {
	pki, err := x1.WriteDemoPKI(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	serve := func() (url string, stop func() string) {
		ctx, cancel := context.WithCancel(t.Context())
		logs := &syncBuffer{}
		root := newRootCommand(&globalOptions{})
		root.SetOut(logs)
		root.SetErr(logs)
		root.SetArgs([]string{"serve", "--data", data, "--x1-listen", "127.0.0.1:0", "--x1-cert", pki.ServerCert,
			"--x1-key", pki.ServerKey, "--x1-client-ca", pki.CACert, "--ne-id", "ne-test"})
		done := make(chan error, 1)
		go func() { done <- root.ExecuteContext(ctx) }()
		re := regexp.MustCompile(`X1 endpoint listening \(mutual TLS\)" addr=(\S+)`)
		deadline := time.Now().Add(20 * time.Second)
		for {
			if m := re.FindStringSubmatch(logs.String()); m != nil {
				url = "https://" + m[1] + x1.Path
				break
			}
			select {
			case err := <-done:
				t.Fatalf("serve ended: %v\n%s", err, logs)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("serve did not start:\n%s", logs)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return url, func() string {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			return logs.String()
		}
	}
	conn := func(url string) []string {
		return []string{"--server", url, "--ca", pki.CACert, "--cert", pki.ClientCert, "--key", pki.ClientKey}
	}
	url, stop := serve()
	for _, args := range [][]string{
		{"create-destination", "--did", tDID3, "--address", "192.0.2.5:6000"},
		{"activate", "--xid", tXID, "--target", "alice@example.com", "--did", tDID3},
	} {
		if out, _, err := execRoot(t.Context(), append(append([]string{"x1"}, args...), conn(url)...)...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	logs := stop()
	if !strings.Contains(logs, `msg="X1 request applied" op=ActivateTask principal="CN=rcds-admf,O=RCDS demo" xid=`+tXID) {
		t.Errorf("activation not logged:\n%s", logs)
	}
	url, stop = serve()
	defer stop()
	out, _, err := execRoot(t.Context(), append([]string{"x1", "list"}, conn(url)...)...)
	if err != nil || out != "tasks: 1\n  "+tXID+"\ndestinations: 1\n  "+tDID3+"\n" {
		t.Errorf("after restart: %v\n%s", err, out)
	}
}

// TestServeRequestFiles applies --x1-request documents at start-up, as if
// posted: the registry holds them afterwards, a restart with the same
// files keeps them ("already exists" is only a warning), and a refused
// request stops the start-up.
func TestServeRequestFiles(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	write := func(name string, reqs ...x1.Request) string {
		for i, r := range reqs {
			h := r.Head()
			h.ADMFIdentifier, h.NEIdentifier, h.Version = "admf", "ne", x1.Version
			h.Timestamp = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			h.TransactionID = "00000000-0000-4000-8000-00000000000" + string(rune('1'+i))
		}
		doc, err := x1.EncodeRequest(reqs...)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dests := write("dest.xml", &x1.CreateDestinationRequest{Destination: x1.Destination{DID: tDID3, DeliveryType: x1.X2andX3, Address: "192.0.2.5:6000"}})
	task := write("task.xml", &x1.ActivateTaskRequest{Task: x1.Task{XID: tXID, DeliveryType: x1.X2andX3, DIDs: []string{tDID3},
		Targets: []x1.Target{{Kind: x1.TargetEmail, Value: "alice@example.com"}}}})
	bad := write("bad.xml", &x1.ActivateTaskRequest{Task: x1.Task{XID: "a1000000-0000-4000-8000-00000000000b", DeliveryType: x1.X2andX3, DIDs: []string{tDID},
		Targets: []x1.Target{{Kind: x1.TargetEmail, Value: "bob@example.com"}}}})
	garbage := filepath.Join(dir, "garbage.xml")
	if err := os.WriteFile(garbage, []byte("<!DOCTYPE x>"), 0o644); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(t.Context())
	cancel() // serve applies the files, then stops at once
	run := func(files ...string) (string, error) {
		args := []string{"serve", "--data", data, "--x1-listen", ""}
		for _, f := range files {
			args = append(args, "--x1-request", f)
		}
		_, logs, err := execRoot(done, args...)
		return logs, err
	}
	for i := 0; i < 2; i++ { // the second run finds them already provisioned
		logs, err := run(dests, task)
		if err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, logs)
		}
		if i == 1 && !strings.Contains(logs, "already provisioned") {
			t.Errorf("second run did not warn:\n%s", logs)
		}
	}
	if _, err := run(bad); err == nil || !strings.Contains(err.Error(), "2040") {
		t.Errorf("refused request: err = %v", err)
	}
	if _, err := run(garbage); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("unparseable file: err = %v", err)
	}
	if _, err := run(filepath.Join(dir, "missing.xml")); err == nil {
		t.Error("missing file accepted")
	}
	db, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg, err := x1.OpenRegistry(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tk, ok := reg.Task(tXID); !ok || tk.Targets[0].Value != "alice@example.com" {
		t.Errorf("task after start-up: %+v %v", tk, ok)
	}
	if len(reg.Tasks()) != 1 {
		t.Errorf("%d tasks, want 1", len(reg.Tasks()))
	}
	audit, err := x1.ReadAudit(db, 0, 0)
	if err != nil || len(audit) == 0 || !strings.HasPrefix(audit[0].Principal, "file:") {
		t.Errorf("audit: %v %+v", err, audit)
	}
}

// TestServeNeedsTLS: without TLS material serve refuses to start unless
// told --x1-insecure.
func TestServeNeedsTLS(t *testing.T) {
	_, _, err := execRoot(t.Context(), "serve", "--data", t.TempDir(), "--x1-listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "--x1-insecure") {
		t.Errorf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, logs, err := execRoot(ctx, "serve", "--data", t.TempDir(), "--x1-listen", "127.0.0.1:0", "--x1-insecure")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, "WITHOUT TLS") {
		t.Errorf("no warning for --x1-insecure:\n%s", logs)
	}
}
