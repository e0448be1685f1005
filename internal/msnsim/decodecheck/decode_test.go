package decodecheck

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"rcds/decoder"
	"rcds/decoder/msnp"
	"rcds/internal/msnsim"
)

// The simulator's kind names must be the decoder's.
func TestKindNamesMatchDecoder(t *testing.T) {
	pairs := map[string]decoder.Kind{
		msnsim.KindLogin: decoder.KindLogin, msnsim.KindLogout: decoder.KindLogout,
		msnsim.KindPresence: decoder.KindPresence, msnsim.KindContactAdd: decoder.KindContactAdd,
		msnsim.KindNickname: decoder.KindNickname, msnsim.KindPersonalMessage: decoder.KindPersonalMessage,
		msnsim.KindSessionStart: decoder.KindSessionStart, msnsim.KindSessionJoin: decoder.KindSessionJoin,
		msnsim.KindSessionLeave: decoder.KindSessionLeave, msnsim.KindMessage: decoder.KindMessage,
		msnsim.KindTyping: decoder.KindTyping, msnsim.KindFileInvite: decoder.KindFileInvite,
		msnsim.KindP2P: decoder.KindP2P, msnsim.KindInfo: decoder.KindInfo,
	}
	for s, k := range pairs {
		if s != string(k) {
			t.Errorf("msnsim kind %q != decoder kind %q", s, k)
		}
	}
	for _, r := range []struct {
		s msnsim.Role
		d decoder.Role
	}{{msnsim.RoleDispatch, decoder.RoleDispatch}, {msnsim.RoleNS, decoder.RoleNotification}, {msnsim.RoleSB, decoder.RoleSwitchboard}} {
		if string(r.s) != string(r.d) {
			t.Errorf("msnsim role %q != decoder role %q", r.s, r.d)
		}
	}
}

// scenario mixes MSNP8, 11, 13 and 15 users: logins, contacts, nicknames,
// personal message, presence, a two-party chat that becomes three-party,
// typing, messages (with CRLF and non-ASCII text), a burst, a second chat,
// a leave, and logouts.
func scenario() msnsim.Scenario {
	const (
		alice = "alice@example.com"
		bob   = "bob@example.org"
		carol = "carol@example.net"
		dave  = "dave@example.com"
	)
	return msnsim.Scenario{
		Users: []msnsim.User{
			{Passport: alice, Nick: "Alice", Version: 8},
			{Passport: bob, Nick: "Bob", Version: 15},
			{Passport: carol, Nick: "Carol C", Version: 11},
			{Passport: dave, Nick: "Dave", Version: 13},
		},
		Steps: []msnsim.Step{
			{Op: msnsim.OpLogin, User: alice},
			{Op: msnsim.OpLogin, User: bob},
			{Op: msnsim.OpLogin, User: carol},
			{Op: msnsim.OpLogin, User: dave},
			{Op: msnsim.OpAddContact, User: alice, With: []string{bob, carol}},
			{Op: msnsim.OpAddContact, User: bob, With: []string{alice}},
			{Op: msnsim.OpAddContact, User: carol, With: []string{alice, bob}},
			{Op: msnsim.OpNick, User: alice, Text: "Alice Liddell"},
			{Op: msnsim.OpPSM, User: bob, Text: "Through the looking glass"},
			{Op: msnsim.OpPresence, User: carol, Text: "BSY"},
			{Op: msnsim.OpChat, User: alice, Chat: "c1", With: []string{bob}},
			{Op: msnsim.OpTyping, User: alice, Chat: "c1"},
			{Op: msnsim.OpSend, User: alice, Chat: "c1", Text: "hi bob"},
			{Op: msnsim.OpSend, User: bob, Chat: "c1", Text: "hi alice\r\nsecond line"},
			{Op: msnsim.OpInvite, User: alice, Chat: "c1", With: []string{carol}},
			{Op: msnsim.OpSend, User: carol, Chat: "c1", Text: "hello all, ünïcödé ✓"},
			{Op: msnsim.OpSend, User: alice, Chat: "c1", Text: "burst", Count: 5, Interval: time.Millisecond},
			{Op: msnsim.OpChat, User: dave, Chat: "c2", With: []string{carol}},
			{Op: msnsim.OpSend, User: dave, Chat: "c2", Text: "side chat"},
			{Op: msnsim.OpLeave, User: bob, Chat: "c1"},
			{Op: msnsim.OpSend, User: alice, Chat: "c1", Text: "bob left"},
			{Op: msnsim.OpLogout, User: carol},
			{Op: msnsim.OpLogout, User: alice},
			{Op: msnsim.OpLogout, User: bob},
			{Op: msnsim.OpLogout, User: dave},
		},
	}
}

// record runs the scenario against a fresh server through a tap.
func record(t *testing.T) (*msnsim.Tap, *msnsim.Transcript) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srvCtx, stop := context.WithCancel(ctx)
	srv := msnsim.NewServer(msnsim.ServerConfig{}, nil)
	if err := srv.Start(srvCtx); err != nil {
		t.Fatal(err)
	}
	defer func() { stop(); srv.Wait() }()
	tap := msnsim.NewTap(0)
	sc := scenario()
	sc.WrapConn = tap.Wrap
	tr, err := msnsim.RunScenario(ctx, srv, sc, msnsim.Hooks{})
	if err != nil {
		t.Fatalf("RunScenario: %v", err)
	}
	return tap, tr
}

// decode replays the tap through decoder.Mux + msnp and returns copies of
// the events.
func decode(t *testing.T, tap *msnsim.Tap) ([]decoder.Event, decoder.MuxStats) {
	t.Helper()
	var evs []decoder.Event
	mux := decoder.NewMux(nil, decoder.EmitterFunc(func(e *decoder.Event) {
		c := *e
		c.To = slices.Clone(e.To)
		c.Raw = slices.Clone(e.Raw)
		evs = append(evs, c)
	}), msnp.New(nil, msnp.Options{}))
	Replay(tap, mux)
	return evs, mux.Stats()
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func describe(e decoder.Event) string {
	return fmt.Sprintf("{%s role=%s user=%s from=%s to=%v contact=%s nick=%q status=%s body=%q fromClient=%v}",
		e.Kind, e.Role, e.User, e.From, e.To, e.Contact, e.Nick, e.Status, e.Body, e.FromClient)
}

// take finds and removes the first event matching pred.
func take(evs *[]decoder.Event, pred func(e decoder.Event) bool) (decoder.Event, bool) {
	for i, e := range *evs {
		if pred(e) {
			*evs = slices.Delete(*evs, i, i+1)
			return e, true
		}
	}
	return decoder.Event{}, false
}

func TestDecoderSeesScenario(t *testing.T) {
	tap, tr := record(t)
	evs, stats := decode(t, tap)
	if stats.Errors != 0 {
		for _, e := range evs {
			if e.Kind == decoder.KindError {
				t.Errorf("decoder error event: %s %s", e.Flow, e.Detail)
			}
		}
	}
	if stats.Undetected != 0 || stats.Detected[msnp.Name] != uint64(len(tap.Conns())) {
		t.Errorf("detected %v, undetected %d, want all %d connections as msnp", stats.Detected, stats.Undetected, len(tap.Conns()))
	}
	rest := slices.Clone(evs)
	must := func(rec msnsim.Record, what string, pred func(e decoder.Event) bool) {
		t.Helper()
		if _, ok := take(&rest, pred); !ok {
			t.Errorf("step %d (%s by %s): no decoder event %s", rec.Step, rec.Kind, rec.User, what)
		}
	}
	wantMessages := 0
	for _, rec := range tr.Records {
		switch rec.Kind {
		case msnsim.KindLogin, msnsim.KindLogout:
			must(rec, string(rec.Kind), func(e decoder.Event) bool {
				return string(e.Kind) == rec.Kind && e.User == rec.User && e.Role == decoder.RoleNotification
			})
		case msnsim.KindPresence:
			must(rec, "presence "+rec.Status, func(e decoder.Event) bool {
				return e.Kind == decoder.KindPresence && e.User == rec.User && e.FromClient && e.Status == rec.Status
			})
		case msnsim.KindContactAdd:
			must(rec, "contact_add "+rec.Contact, func(e decoder.Event) bool {
				return e.Kind == decoder.KindContactAdd && e.User == rec.User && e.FromClient && e.Contact == rec.Contact
			})
		case msnsim.KindNickname:
			must(rec, "nickname "+rec.Nick, func(e decoder.Event) bool {
				return e.Kind == decoder.KindNickname && e.User == rec.User && e.FromClient && e.Nick == rec.Nick
			})
		case msnsim.KindPersonalMessage:
			must(rec, "personal_message", func(e decoder.Event) bool {
				return e.Kind == decoder.KindPersonalMessage && e.User == rec.User && e.Body == rec.Body
			})
		case msnsim.KindSessionStart:
			for _, u := range append([]string{rec.User}, rec.To...) {
				must(rec, "session_start of "+u, func(e decoder.Event) bool {
					return e.Kind == decoder.KindSessionStart && e.User == u && e.Role == decoder.RoleSwitchboard
				})
			}
		case msnsim.KindSessionJoin:
			for _, u := range rec.To {
				must(rec, "session_join of "+u, func(e decoder.Event) bool {
					return e.Kind == decoder.KindSessionJoin && e.User == rec.User && e.From == u
				})
			}
		case msnsim.KindSessionLeave:
			must(rec, "session_leave (OUT)", func(e decoder.Event) bool {
				return e.Kind == decoder.KindSessionLeave && e.User == rec.User && e.From == rec.User && e.FromClient
			})
			for _, m := range rec.To {
				must(rec, "session_leave (BYE) seen by "+m, func(e decoder.Event) bool {
					return e.Kind == decoder.KindSessionLeave && e.User == m && e.From == rec.User && !e.FromClient
				})
			}
		case msnsim.KindMessage, msnsim.KindTyping:
			wantMessages += 1 + len(rec.To)
			must(rec, "sent "+rec.Kind, func(e decoder.Event) bool {
				return string(e.Kind) == rec.Kind && e.FromClient && e.User == rec.User && e.From == rec.User &&
					slices.Equal(sortedCopy(e.To), sortedCopy(rec.To)) && e.Body == rec.Body
			})
			for _, r := range rec.To {
				must(rec, "received "+rec.Kind+" by "+r, func(e decoder.Event) bool {
					return string(e.Kind) == rec.Kind && !e.FromClient && e.User == r && e.From == rec.User && e.Body == rec.Body &&
						slices.Contains(e.To, r)
				})
			}
		}
	}
	// Every message and typing event the decoder saw was expected: nothing
	// invented, nothing duplicated.
	got := stats.Events[decoder.KindMessage] + stats.Events[decoder.KindTyping]
	if int(got) != wantMessages {
		t.Errorf("decoder saw %d message/typing events, scenario implies %d", got, wantMessages)
	}
	for _, e := range rest {
		if e.Kind == decoder.KindMessage || e.Kind == decoder.KindTyping {
			t.Errorf("unexpected %s", describe(e))
		}
	}
	if t.Failed() {
		for _, e := range evs {
			t.Logf("event %s", describe(e))
		}
	}
	// The sent bodies really are in the traffic (a check on the check).
	if n := strings.Count(string(allBytes(tap)), "hello all, ünïcödé ✓"); n != 3 {
		t.Errorf("carol's message appears %d times in the recorded bytes, want 3 (sent once, relayed twice)", n)
	}
}

func allBytes(tap *msnsim.Tap) []byte {
	var b []byte
	for _, r := range tap.Records() {
		b = append(b, r.Data...)
	}
	return b
}

// TestDecoderSeesRateMarkers: every message of the rate driver is decoded
// once on the sender's connection and once on the receiver's, with its
// marker at the start of the body.
func TestDecoderSeesRateMarkers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srvCtx, stop := context.WithCancel(ctx)
	srv := msnsim.NewServer(msnsim.ServerConfig{}, nil)
	if err := srv.Start(srvCtx); err != nil {
		t.Fatal(err)
	}
	defer func() { stop(); srv.Wait() }()
	tap := msnsim.NewTap(0)
	var clients []*msnsim.Client
	for i, v := range []int{15, 8} {
		cl, err := msnsim.Dial(ctx, msnsim.ClientConfig{Dispatch: srv.Addrs().Dispatch.String(),
			Passport: fmt.Sprintf("u%d@example.com", i), Version: v, WrapConn: tap.Wrap})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := cl.Login(ctx); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, cl)
	}
	res, err := msnsim.RunRate(ctx, clients[0], clients[1], msnsim.RateConfig{Rate: 2000, Count: 200, Size: 64})
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := decode(t, tap)
	seen := map[string][2]int{} // marker -> [sent, received]
	for _, e := range evs {
		if e.Kind != decoder.KindMessage {
			continue
		}
		mk, _, _ := strings.Cut(e.Body, " ")
		n := seen[mk]
		if e.FromClient && e.User == "u0@example.com" && slices.Equal(e.To, []string{"u1@example.com"}) {
			n[0]++
		}
		if !e.FromClient && e.User == "u1@example.com" && e.From == "u0@example.com" {
			n[1]++
		}
		seen[mk] = n
	}
	for _, mk := range res.Markers {
		if seen[mk] != [2]int{1, 1} {
			t.Errorf("marker %s decoded %v times (sent, received), want once each", mk, seen[mk])
		}
	}
	if len(seen) != len(res.Markers) {
		t.Errorf("%d distinct message bodies decoded, %d sent", len(seen), len(res.Markers))
	}
}
