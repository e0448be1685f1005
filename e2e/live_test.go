package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"rcds/decoder"
	"rcds/internal/msnsim"
)

// The people of the live scenario: the target (MSNP15), her contact Bob
// (MSNP8), and Carol (MSNP15) and Dave (MSNP8) who only talk with each
// other.
const (
	alice = "alice@example.com"
	bob   = "bob@example.net"
	carol = "carol@example.org"
	dave  = "dave@example.com"
)

// Message texts, by when they are sent.
const (
	txtBefore1   = "before the warrant: are you there?"
	txtBefore2   = "before the warrant: yes I am"
	txtPrivate1  = "carol to dave, nobody else: first"
	txtAfter1    = "under the warrant: meet at noon"
	txtAfter2    = "under the warrant: 好的，中午见"
	txtPrivate2  = "carol to dave, nobody else: second"
	txtPSM       = "lunch with bob"
	txtNick      = "Alice at lunch"
	txtPresence  = "BSY"
	txtDeact1    = "after the deactivation: bye"
	txtDeact2    = "after the deactivation: see you"
	liveLIID     = "E2E-LIVE-0001"
	waitDeadline = 20 * time.Second
)

// liveScenario is the script; activateAt and deactivateAt are the step
// indexes before which the task is activated and deactivated.
func liveScenario() (sc msnsim.Scenario, activateAt, deactivateAt int) {
	sc = msnsim.Scenario{
		Users: []msnsim.User{
			{Passport: alice, Nick: "Alice", Version: 15},
			{Passport: bob, Nick: "Bob", Version: 8},
			{Passport: carol, Nick: "Carol", Version: 15},
			{Passport: dave, Nick: "Dave", Version: 8},
		},
		Steps: []msnsim.Step{
			{Op: msnsim.OpLogin, User: alice},
			{Op: msnsim.OpLogin, User: bob},
			{Op: msnsim.OpLogin, User: carol},
			{Op: msnsim.OpLogin, User: dave},
			{Op: msnsim.OpChat, User: alice, Chat: "c1", With: []string{bob}},
			{Op: msnsim.OpSend, User: alice, Chat: "c1", Text: txtBefore1},
			{Op: msnsim.OpSend, User: bob, Chat: "c1", Text: txtBefore2},
			{Op: msnsim.OpChat, User: carol, Chat: "c2", With: []string{dave}},
			{Op: msnsim.OpSend, User: carol, Chat: "c2", Text: txtPrivate1},
			// activation before step 9
			{Op: msnsim.OpSend, User: alice, Chat: "c1", Text: txtAfter1},
			{Op: msnsim.OpSend, User: bob, Chat: "c1", Text: txtAfter2},
			{Op: msnsim.OpTyping, User: alice, Chat: "c1"},
			{Op: msnsim.OpSend, User: carol, Chat: "c2", Text: txtPrivate2},
			{Op: msnsim.OpPresence, User: alice, Text: txtPresence},
			{Op: msnsim.OpNick, User: alice, Text: txtNick},
			{Op: msnsim.OpPSM, User: alice, Text: txtPSM},
			// deactivation before step 16
			{Op: msnsim.OpSend, User: alice, Chat: "c1", Text: txtDeact1},
			{Op: msnsim.OpSend, User: bob, Chat: "c1", Text: txtDeact2},
			{Op: msnsim.OpLogout, User: bob},
			{Op: msnsim.OpLogout, User: carol},
			{Op: msnsim.OpLogout, User: dave},
			{Op: msnsim.OpLogout, User: alice},
		},
		Timeout: 10 * time.Second,
	}
	return sc, 9, 16
}

// TestLiveLoopback: the simulator's users talk over 127.0.0.1 while the
// POI captures on lo.
func TestLiveLoopback(t *testing.T) {
	needRoot(t)
	srv := msnsim.NewServer(msnsim.ServerConfig{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	a := srv.Addrs()
	runLive(t, "lo", portsOf(a.Dispatch, a.NS, a.SB), srv, msnsim.Scenario{})
}

// runLive plays the live scenario against srv with the capture on iface:
// the task is activated over X1 mid-session and deactivated later; the
// LEMF must receive exactly the target's events in between.
func runLive(t *testing.T, iface string, ports []uint16, srv *msnsim.Server, base msnsim.Scenario) {
	obs, rec := newObserver(), newRecorder()
	e := startEnv(t, iface, ports, obs, rec)
	sc, activateAt, deactivateAt := liveScenario()
	sc.Dispatch, sc.Dial = base.Dispatch, base.Dial

	var activated, deactivated time.Time
	var xid string
	hooks := msnsim.Hooks{BeforeStep: func(ctx context.Context, i int, _ msnsim.Step) error {
		switch i {
		case activateAt:
			// Everything before this moment has been decoded (both copies of
			// the last message: the sender's and the recipient's
			// connection), so none of it can be matched by the new task.
			obs.waitSeen(t, waitDeadline, txtPrivate1, 2)
			obs.waitSeen(t, waitDeadline, txtBefore2, 2)
			activated = time.Now()
			var err error
			xid, err = e.activate(ctx, alice, liveLIID)
			return err
		case deactivateAt:
			// Wait until the window's last event reached the LEMF: the POI
			// handles events in order, so every earlier one did too.
			rec.waitFor(t, waitDeadline, "the personal message", func(rs []record) bool {
				for _, r := range rs {
					if r.Kind == "iri" && r.Subject == txtPSM {
						return true
					}
				}
				return false
			})
			deactivated = time.Now()
			_, err := e.cl.DeactivateTask(ctx, xid)
			return err
		}
		return nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr, err := msnsim.RunScenario(ctx, srv, sc, hooks)
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	// The capture saw the whole session, the messages after the
	// deactivation and the logouts included.
	obs.waitSeen(t, waitDeadline, txtDeact2, 2)
	waitCond(t, waitDeadline, "the four logouts", func() bool { return obs.kind(decoder.KindLogout) >= 4 })
	if err := e.st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.st.WaitDrained(ctx); err != nil {
		t.Fatal(err)
	}
	got := rec.snapshot()
	checkWindow(t, got, activated, deactivated)

	// Exactly the window's messages, once each, with their content.
	var ccText []string
	typing, deposits := 0, 0
	for _, r := range got {
		switch {
		case r.Kind == "cc" && strings.HasPrefix(r.ContentType, "text/plain"):
			ccText = append(ccText, string(r.Content))
		case r.Kind == "cc" && strings.HasPrefix(r.ContentType, "text/x-msmsgscontrol"):
			typing++
		case r.Kind == "iri" && r.Category == "message:deposit":
			deposits++
		}
		if r.LIID != liveLIID {
			t.Errorf("record with LIID %q", r.LIID)
		}
	}
	if len(ccText) != 2 || !contains(ccText, txtAfter1) || !contains(ccText, txtAfter2) || typing != 1 || deposits != 3 {
		t.Errorf("content %q, %d typing, %d deposit IRIs; want the 2 messages and 1 typing of the window", ccText, typing, deposits)
	}
	for _, want := range []string{txtPresence, txtNick, txtPSM} {
		if !hasSubject(got, want) {
			t.Errorf("no IRI with %q", want)
		}
	}
	// Nothing before the activation, after the deactivation, or about
	// the people who never talked with the target.
	raw := e.rawBytes(t)
	for _, s := range []string{txtBefore1, txtBefore2, txtDeact1, txtDeact2, txtPrivate1, txtPrivate2, carol, dave, "Carol", "Dave"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the LEMF received %q", s)
		}
	}
	if !bytes.Contains(raw, []byte(alice)) || !bytes.Contains(raw, []byte(bob)) {
		t.Error("the target's parties are missing from the records")
	}
	if st := e.st.POI.Stats(); st.SendErrors != 0 || st.EncodeErrors != 0 {
		t.Errorf("POI errors: %+v", st)
	}
	if ks := e.st.Engine.Stats(); ks.Packets == 0 || ks.Gaps != 0 {
		t.Errorf("capture: %d packets, %d gaps", ks.Packets, ks.Gaps)
	}
	t.Logf("%d records at the LEMF (%d IRI with %d deposits, %d CC); scenario of %d records; capture %+v",
		len(got), len(got)-len(ccText)-typing, deposits, len(ccText)+typing, len(tr.Records), e.st.Engine.Stats())
}

// checkWindow: every record's packet time lies between the activation and
// the deactivation (allowing the PS-PDU's timestamp resolution).
func checkWindow(t *testing.T, got []record, from, to time.Time) {
	t.Helper()
	if len(got) == 0 {
		t.Fatal("the LEMF received nothing")
	}
	const slack = time.Millisecond
	for _, r := range got {
		if r.Time.Before(from.Add(-slack)) || r.Time.After(to.Add(slack)) {
			t.Errorf("%s record %s %s at %s, outside the warrant window %s .. %s",
				r.Kind, r.Category, r.ContentType, r.Time.Format(time.RFC3339Nano), from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func hasSubject(rs []record, s string) bool {
	for _, r := range rs {
		if r.Kind == "iri" && r.Subject == s {
			return true
		}
	}
	return false
}
