package x1

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// runServer starts srv and returns a function that stops it and waits.
func runServer(t testing.TB, srv *Server) (stop func()) {
	t.Helper()
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	var stopped atomic.Bool
	stop = func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func newTLSServer(t testing.TB, e *testEnv, files PKIFiles, cfg ServerConfig) *Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.CertFile, cfg.KeyFile, cfg.ClientCAFile = files.ServerCert, files.ServerKey, files.CACert
	srv, err := NewServer(cfg, e.reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestEndToEndMutualTLS: over real mutual TLS on loopback, the client
// provisions a destination and a task, lists them, the server restarts
// (the bbolt file is reopened), they are listed again and the task is
// deactivated. The audit log names the client certificate's subject.
func TestEndToEndMutualTLS(t *testing.T) {
	files, err := WriteDemoPKI(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	srv := newTLSServer(t, e, files, ServerConfig{})
	stop := runServer(t, srv)
	ctls, err := ClientTLSConfig(files.CACert, files.ClientCert, files.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	chk := &xsdCheck{}
	c := NewClient(srv.URL(), ctls, "admf-e2e", "rcds")
	step := func(name string) func(*Reply, error) *Reply {
		return func(r *Reply, err error) *Reply {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			chk.add(name, r.Raw)
			return r
		}
	}
	step("create destination")(c.CreateDestination(ctx, dest(didBoth, X2andX3, "192.0.2.5:6000")))
	task := emailTask(xidA, "alice@example.com", didBoth)
	step("activate")(c.ActivateTask(ctx, task))
	r := step("list")(c.ListAllDetails(ctx))
	mustEqual(t, "list", [][]string{r.Response.XIDs, r.Response.DIDs}, [][]string{{xidA}, {didBoth}})
	r = step("get task")(c.GetTaskDetails(ctx, xidA))
	firstGet := *r.Response.Task
	c.Close()

	stop()
	e.reopen(t)
	srv = newTLSServer(t, e, files, ServerConfig{})
	runServer(t, srv)
	c = NewClient(srv.URL(), ctls, "admf-e2e", "rcds")
	defer c.Close()
	r = step("list after restart")(c.ListAllDetails(ctx))
	mustEqual(t, "list after restart", [][]string{r.Response.XIDs, r.Response.DIDs}, [][]string{{xidA}, {didBoth}})
	r = step("get task after restart")(c.GetTaskDetails(ctx, xidA))
	mustEqual(t, "task after restart", *r.Response.Task, firstGet)
	step("deactivate")(c.DeactivateTask(ctx, xidA))
	r = step("list after deactivate")(c.ListAllDetails(ctx))
	if len(r.Response.XIDs) != 0 {
		t.Errorf("XIDs after deactivate: %v", r.Response.XIDs)
	}
	// An ErrorResponse reaches the caller as a *ResponseError.
	_, err = c.DeactivateTask(ctx, xidA)
	var re *ResponseError
	if !errors.As(err, &re) || re.Code != CodeXIDNotFound || !errors.Is(err, ErrXIDNotFound) {
		t.Errorf("second deactivate: %v", err)
	}
	a := e.lastAudit(t)
	if a.Principal != "CN=rcds-admf,O=RCDS demo" || a.Operation != "DeactivateTask" || a.ADMF != "admf-e2e" {
		t.Errorf("audit = %+v", a.AuditRecord)
	}
	chk.validate(t)
}

// TestTLSRefusals: a client without a certificate, with one from another
// CA, or speaking TLS 1.1 is refused during the handshake; nothing
// changes and the refusal is audited.
func TestTLSRefusals(t *testing.T) {
	files, err := WriteDemoPKI(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewDemoPKI(nil, "intruder")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	srv := newTLSServer(t, e, files, ServerConfig{})
	runServer(t, srv)
	good, _ := ClientTLSConfig(files.CACert, "", "")
	otherCert, _ := tls.X509KeyPair(other.ClientCert, other.ClientKey)
	foreign := good.Clone()
	foreign.Certificates = []tls.Certificate{otherCert}
	serverCertAsClient, _ := ClientTLSConfig(files.CACert, files.ServerCert, files.ServerKey)
	old, _ := ClientTLSConfig(files.CACert, files.ClientCert, files.ClientKey)
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	cases := []struct {
		name string
		cfg  *tls.Config
	}{
		{"no client certificate", good},
		{"certificate from another CA", foreign},
		{"server certificate used as client certificate", serverCertAsClient},
		{"TLS 1.1", old},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.snapshot(t)
			audit := e.auditLen(t)
			cl := NewClient(srv.URL(), c.cfg, "admf", "ne")
			defer cl.Close()
			_, err := cl.CreateDestination(t.Context(), dest(didBoth, X2andX3, "192.0.2.5:6000"))
			if err == nil {
				t.Fatal("request accepted")
			}
			t.Logf("refused: %v", err)
			mustEqual(t, "registry", e.snapshot(t), before)
			// The server audits the refused handshake; it may complete
			// just after the client saw its error.
			deadline := time.Now().Add(10 * time.Second)
			for e.auditLen(t) == audit && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			a := e.lastAudit(t)
			if e.auditLen(t) != audit+1 || a.Operation != AuditTLSRefused || a.Result != "error" || !strings.HasPrefix(a.Principal, "tls:127.0.0.1:") {
				t.Errorf("audit = %+v (%d new entries)", a.AuditRecord, e.auditLen(t)-audit)
			}
		})
	}
	// A plain-HTTP client gets nothing X1 out of a TLS endpoint.
	resp, err := http.Post("http://"+srv.Addr().String()+Path, "application/xml", strings.NewReader("<x/>"))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 by the TLS endpoint")
		}
	}
}

// TestHTTPLimits: oversized bodies get a top-level error with 413, other
// methods and paths are refused; the principal of an insecure endpoint is
// the remote address.
func TestHTTPLimits(t *testing.T) {
	e := newEnv(t)
	srv, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Insecure: true, MaxBody: 4096}, e.reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	runServer(t, srv)
	url := srv.URL()
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("URL %s", url)
	}
	chk := &xsdCheck{}
	big := []byte(msgDoc("PingRequest", strings.Repeat(" ", 5000)))
	resp, err := http.Post(url, "application/xml", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	chk.add("oversized", body)
	if o, _ := outcomes(t, body); resp.StatusCode != http.StatusRequestEntityTooLarge || o[0].Type != "TopLevelError" {
		t.Errorf("oversized: HTTP %d, %v", resp.StatusCode, o)
	}
	if a := e.lastAudit(t); a.Operation != AuditTopLevelError || !strings.HasPrefix(a.Principal, "insecure:127.0.0.1:") {
		t.Errorf("audit = %+v", a.AuditRecord)
	}
	resp, err = http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d", resp.StatusCode)
	}
	resp, err = http.Post(strings.TrimSuffix(url, Path)+"/other", "application/xml", strings.NewReader(msgDoc("PingRequest", "")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("other path: HTTP %d", resp.StatusCode)
	}
	c := NewClient(url, nil, "admf", "ne")
	defer c.Close()
	r, err := c.Ping(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	chk.add("ping", r.Raw)
	raw, err := c.Do(t.Context(), []byte("<broken"))
	if err != nil {
		t.Fatal(err)
	}
	chk.add("broken", raw)
	if o, _ := outcomes(t, raw); o[0].Type != "TopLevelError" {
		t.Errorf("broken document: %v", o)
	}
	chk.validate(t)
}

// TestNewServerConfig: mutual TLS cannot be configured away by mistake.
func TestNewServerConfig(t *testing.T) {
	e := newEnv(t)
	if _, err := NewServer(ServerConfig{Addr: "127.0.0.1:0"}, e.reg, nil); err == nil {
		t.Error("server without TLS material and without Insecure accepted")
	}
	if _, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", TLSConfig: &tls.Config{}}, e.reg, nil); err == nil {
		t.Error("TLSConfig without client authentication accepted")
	}
	files, err := WriteDemoPKI(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", CertFile: files.ServerCert, KeyFile: files.ServerKey, ClientCAFile: files.ServerKey}, e.reg, nil); err == nil {
		t.Error("client CA file without certificates accepted")
	}
}

// TestKeepaliveWatch: once the ADMF has sent a Keepalive, a gap longer than
// KeepaliveTimeout is audited (once).
func TestKeepaliveWatch(t *testing.T) {
	e := newEnv(t)
	srv, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Insecure: true, KeepaliveTimeout: 50 * time.Millisecond}, e.reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	runServer(t, srv)
	c := NewClient(srv.URL(), nil, "admf", "ne")
	defer c.Close()
	if _, err := c.Keepalive(t.Context()); err != nil {
		t.Fatal(err)
	}
	if e.reg.LastKeepalive().IsZero() {
		t.Fatal("keepalive not recorded")
	}
	missed := func() int {
		a, _ := ReadAudit(e.db, 0, 0)
		n := 0
		for _, x := range a {
			if x.Operation == AuditKeepaliveMissed {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for missed() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if missed() != 1 {
		t.Fatalf("%d KeepaliveMissed entries, want 1", missed())
	}
	time.Sleep(200 * time.Millisecond) // the same gap is not reported again
	if n := missed(); n != 1 {
		t.Errorf("%d KeepaliveMissed entries after waiting, want 1", n)
	}
}
