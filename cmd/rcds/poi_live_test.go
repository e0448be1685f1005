//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"rcds/hi/etsi"
	"rcds/internal/msnsim"
	"rcds/x1"
	"rcds/x2x3"
)

// poiLogBuffer is a goroutine-safe bytes.Buffer.
type poiLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *poiLogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *poiLogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPOICommandLive runs `rcds poi --iface lo` against MSN traffic of
// our simulator over real loopback sockets, sending to an MDF-side
// Receiver: the target's messages arrive once each (the tap sees both the
// sender's and the recipient's connection), a conversation between two
// other users leaves nothing, and the command ends cleanly when stopped.
func TestPOICommandLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: live capture needs root (CAP_NET_RAW)")
	}
	const (
		target   = "target.live@example.com"
		peer     = "peer.live@example.net"
		stranger = "stranger.live@example.org"
	)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	srv := msnsim.NewServer(msnsim.ServerConfig{}, slog.New(slog.DiscardHandler))
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	a := srv.Addrs()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &collectHandler{}
	rcv := x2x3.NewReceiver(x2x3.ReceiverConfig{}, h, slog.New(slog.DiscardHandler))
	rcvDone := make(chan error, 1)
	go func() { rcvDone <- rcv.Serve(ctx, ln) }()

	now := time.Now()
	req := writeTaskRequestWindow(t, dir, x1.X2andX3, now.Add(-time.Hour), now.Add(24*time.Hour), target)
	var stdout, stderr poiLogBuffer
	root := newRootCommand(&globalOptions{logLevel: "debug", logFormat: "text"})
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs([]string{"poi", "--iface", "lo", "--mdf", ln.Addr().String(), "--x1-request", req,
		"--data", filepath.Join(dir, "data"), "--x1-listen", "", "--keepalive", "200ms",
		"--filter-port", strconv.Itoa(int(a.Dispatch.Port())), "--filter-port", strconv.Itoa(int(a.NS.Port())),
		"--filter-port", strconv.Itoa(int(a.SB.Port()))})
	poiCtx, stopPOI := context.WithCancel(ctx)
	defer stopPOI()
	poiDone := make(chan error, 1)
	go func() { poiDone <- root.ExecuteContext(poiCtx) }()
	poiWaitFor(t, "the POI to start", func() bool { return strings.Contains(stderr.String(), "POI running") }, poiDone)

	sc := msnsim.Scenario{
		Users: []msnsim.User{{Passport: target}, {Passport: peer}, {Passport: stranger}},
		Steps: []msnsim.Step{
			{Op: msnsim.OpLogin, User: target}, {Op: msnsim.OpLogin, User: peer}, {Op: msnsim.OpLogin, User: stranger},
			{Op: msnsim.OpChat, User: target, Chat: "c1", With: []string{peer}},
			{Op: msnsim.OpSend, User: target, Chat: "c1", Text: "hello live", Count: 3},
			{Op: msnsim.OpSend, User: peer, Chat: "c1", Text: "reply live"},
			{Op: msnsim.OpChat, User: peer, Chat: "c2", With: []string{stranger}},
			{Op: msnsim.OpSend, User: stranger, Chat: "c2", Text: "between others", Count: 2},
			{Op: msnsim.OpLeave, User: target, Chat: "c1"},
			{Op: msnsim.OpLogout, User: target}, {Op: msnsim.OpLogout, User: peer}, {Op: msnsim.OpLogout, User: stranger},
		},
	}
	if _, err := msnsim.RunScenario(ctx, srv, sc, msnsim.Hooks{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"hello live #1", "hello live #2", "hello live #3", "reply live"}
	contents := func() []string {
		h.mu.Lock()
		defer h.mu.Unlock()
		var out []string
		for _, p := range h.pdus {
			if p.Type != x2x3.TypeX3 {
				continue
			}
			var cc etsi.CCPayload
			if err := etsi.UnmarshalCCPayload(p.Payload, &cc); err != nil {
				t.Errorf("X3 payload: %v", err)
				continue
			}
			out = append(out, string(cc.Contents.(*etsi.MessagingCC).Content))
		}
		slices.Sort(out)
		return out
	}
	poiWaitFor(t, "the target's messages at the MDF", func() bool { return len(contents()) >= len(want) }, poiDone, func() string {
		c := contents()
		h.mu.Lock()
		n := len(h.pdus)
		h.mu.Unlock()
		return fmt.Sprintf("%d PDUs, X3 %q; log:\n%s", n, c, stderr.String())
	})
	// The logout comes last: once its IRI is in, everything before it is.
	poiWaitFor(t, "the target's logout at the MDF", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, p := range h.pdus {
			var ip etsi.IRIPayload
			if p.Type == x2x3.TypeX2 && etsi.UnmarshalIRIPayload(p.Payload, &ip) == nil && ip.IRIType == etsi.IRIEnd &&
				ip.Contents.(*etsi.MessagingIRI).Category == etsi.EventCategory(etsi.BoxLogout) {
				return true
			}
		}
		return false
	}, poiDone)
	stopPOI()
	if err := <-poiDone; err != nil {
		t.Fatalf("rcds poi: %v\n%s", err, stderr.String())
	}
	if got := contents(); !slices.Equal(got, want) {
		t.Errorf("X3 contents %q, want each of %q once", got, want)
	}
	h.mu.Lock()
	var all []byte
	for _, p := range h.pdus {
		b, _ := p.MarshalBinary()
		all = append(all, b...)
	}
	h.mu.Unlock()
	for _, s := range []string{stranger, "between others"} {
		if bytes.Contains(all, []byte(s)) {
			t.Errorf("%q reached the MDF", s)
		}
		if strings.Contains(stderr.String(), s) {
			t.Errorf("%q is in the POI's log", s)
		}
	}
	if !strings.Contains(stdout.String(), "rcds poi: ") {
		t.Errorf("no summary: %q", stdout.String())
	}
	cancel()
	if err := <-rcvDone; err != nil {
		t.Error(err)
	}
}

// poiWaitFor polls cond until it holds; it fails when the POI command ends
// first or after a minute.
func poiWaitFor(t *testing.T, what string, cond func() bool, done <-chan error, diag ...func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		select {
		case err := <-done:
			t.Fatalf("rcds poi ended while waiting for %s: %v", what, err)
		default:
		}
		if time.Now().After(deadline) {
			msg := ""
			for _, d := range diag {
				msg += d()
			}
			t.Fatalf("gave up waiting for %s %s", what, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
