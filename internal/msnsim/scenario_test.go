package msnsim

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRunScenarioHooksAndTranscript(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	ctx := testCtx(t)
	const a, b, c = "alice@example.com", "bob@example.com", "carol@example.com"
	sc := Scenario{
		Users: []User{{Passport: a, Nick: "A", Version: 15}, {Passport: b, Nick: "B", Version: 8}, {Passport: c, Version: 11}},
		Steps: []Step{
			{Op: OpLogin, User: a},
			{Op: OpLogin, User: b},
			{Op: OpLogin, User: c},
			{Op: OpChat, User: a, Chat: "x", With: []string{b, c}},
			{Op: OpSend, User: a, Chat: "x", Text: "one"},
			{Op: OpPause, Interval: time.Millisecond},
			{Op: OpSend, User: b, Chat: "x", Text: "two", Count: 3, Interval: 2 * time.Millisecond},
			{Op: OpLeave, User: c, Chat: "x"},
			{Op: OpTyping, User: a, Chat: "x"},
			{Op: OpLogout, User: b},
		},
	}
	var before, after []int
	var onlineAtStep4 bool
	hooks := Hooks{
		BeforeStep: func(ctx context.Context, i int, s Step) error {
			before = append(before, i)
			if i == 4 {
				onlineAtStep4 = srv.Online(a) && srv.Online(b) && srv.Online(c)
			}
			return nil
		},
		AfterStep: func(ctx context.Context, i int, s Step) error { after = append(after, i); return nil },
	}
	tr, err := RunScenario(ctx, srv, sc, hooks)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	if !slices.Equal(before, want) || !slices.Equal(after, want) {
		t.Errorf("hooks ran before %v after %v", before, after)
	}
	if !onlineAtStep4 {
		t.Error("BeforeStep(4) did not see the three users online")
	}
	if len(tr.Steps) != len(sc.Steps) {
		t.Errorf("%d step times", len(tr.Steps))
	}
	sess := tr.Sessions["x"]
	if sess == "" {
		t.Fatal("no session for chat x")
	}
	var got []string
	for _, r := range tr.Records {
		got = append(got, fmt.Sprintf("%d %s %s to=%v body=%q sess=%v", r.Step, r.Kind, r.User, r.To, r.Body, r.Session == sess))
	}
	wantRecs := []string{
		`0 login alice@example.com to=[] body="" sess=false`,
		`1 login bob@example.com to=[] body="" sess=false`,
		`2 login carol@example.com to=[] body="" sess=false`,
		`3 session_start alice@example.com to=[bob@example.com carol@example.com] body="" sess=true`,
		`4 message alice@example.com to=[bob@example.com carol@example.com] body="one" sess=true`,
		`6 message bob@example.com to=[alice@example.com carol@example.com] body="two #1" sess=true`,
		`6 message bob@example.com to=[alice@example.com carol@example.com] body="two #2" sess=true`,
		`6 message bob@example.com to=[alice@example.com carol@example.com] body="two #3" sess=true`,
		`7 session_leave carol@example.com to=[alice@example.com bob@example.com] body="" sess=true`,
		`8 typing alice@example.com to=[bob@example.com] body="\r\n" sess=true`,
		`9 session_leave bob@example.com to=[alice@example.com] body="" sess=true`,
		`9 logout bob@example.com to=[] body="" sess=false`,
	}
	for i := range got {
		// Member order depends on who answered first; compare sorted.
		got[i] = sortTo(got[i])
	}
	if strings.Join(got, "\n") != strings.Join(wantRecs, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRecs, "\n"))
	}
	// Times: sends are increasing and inside their step.
	var last time.Time
	for _, r := range tr.Records {
		if r.Kind == KindMessage {
			if r.Time.Before(last) || r.Time.Before(tr.Steps[r.Step].Start) || r.Time.After(tr.Steps[r.Step].End) {
				t.Errorf("record %+v time out of order or outside its step", r)
			}
			last = r.Time
		}
	}
	// Deliveries: carol got "one" and the three "two"s, alice the "two"s,
	// bob "one" and the typing notification.
	count := func(user, kind string) int {
		n := 0
		for _, m := range tr.Received[user] {
			if m.Kind == kind && m.Chat == sess {
				n++
			}
		}
		return n
	}
	for _, w := range []struct {
		user, kind string
		n          int
	}{{a, KindMessage, 3}, {b, KindMessage, 1}, {b, KindTyping, 1}, {c, KindMessage, 4}, {c, KindTyping, 0}} {
		if got := count(w.user, w.kind); got != w.n {
			t.Errorf("%s received %d %s, want %d", w.user, got, w.kind, w.n)
		}
	}
}

// sortTo sorts the to=[...] list inside a record line.
func sortTo(s string) string {
	i := strings.Index(s, "to=[")
	j := strings.Index(s[i:], "]")
	if i < 0 || j < 0 {
		return s
	}
	f := strings.Fields(s[i+4 : i+j])
	slices.Sort(f)
	return s[:i+4] + strings.Join(f, " ") + s[i+j:]
}

func TestRunScenarioErrors(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	ctx := testCtx(t)
	const a, b = "alice@example.com", "bob@example.com"
	users := []User{{Passport: a}, {Passport: b, Version: 8}}
	stop := errors.New("stop here")
	tests := []struct {
		name  string
		sc    Scenario
		hooks Hooks
		want  string
	}{
		{"unknown user", Scenario{Users: users, Steps: []Step{{Op: OpLogin, User: "eve@example.com"}}}, Hooks{}, "unknown user"},
		{"not logged in", Scenario{Users: users, Steps: []Step{{Op: OpNick, User: a, Text: "x"}}}, Hooks{}, "has not logged in"},
		{"no such chat", Scenario{Users: users, Steps: []Step{{Op: OpLogin, User: a}, {Op: OpSend, User: a, Chat: "nope", Text: "x"}}}, Hooks{}, "not in chat"},
		{"unknown op", Scenario{Users: users, Steps: []Step{{Op: OpLogin, User: a}, {Op: "dance", User: a}}}, Hooks{}, "unknown op"},
		{"duplicate user", Scenario{Users: append(users, User{Passport: "Alice@Example.com"})}, Hooks{}, "listed twice"},
		{"callee offline", Scenario{Users: users, Steps: []Step{{Op: OpLogin, User: a}, {Op: OpChat, User: a, Chat: "c", With: []string{b}}}}, Hooks{}, "error 217"},
		{"psm in MSNP8", Scenario{Users: users, Steps: []Step{{Op: OpLogin, User: b}, {Op: OpPSM, User: b, Text: "x"}}}, Hooks{}, "unsupported"},
		{"hook stops", Scenario{Users: users, Steps: []Step{{Op: OpLogin, User: a}, {Op: OpLogin, User: b}}},
			Hooks{BeforeStep: func(ctx context.Context, i int, s Step) error {
				if i == 1 {
					return stop
				}
				return nil
			}}, "stop here"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RunScenario(ctx, srv, tc.sc, tc.hooks)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// The clients are closed: the server sees both users go offline.
	waitUntil(t, "users offline", func() bool { return !srv.Online(a) && !srv.Online(b) })
}

func TestRunRate(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	ctx := testCtx(t)
	alice := login(t, ctx, srv, "alice@example.com", "A", 15)
	bob := login(t, ctx, srv, "bob@example.com", "B", 8)
	res, err := RunRate(ctx, alice, bob, RateConfig{Rate: 1000, Count: 300, Size: 120, Prefix: "bench-x"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Delivered != 300 || len(res.Markers) != 300 || len(res.Sent) != 300 {
		t.Fatalf("delivered %d, markers %d, sent %d", res.Delivered, len(res.Markers), len(res.Sent))
	}
	for i, mk := range res.Markers {
		if mk != Marker("bench-x", i) {
			t.Fatalf("marker %d = %q", i, mk)
		}
		if i > 0 && res.Sent[mk].Before(res.Sent[res.Markers[i-1]]) {
			t.Fatalf("send times not increasing at %d", i)
		}
	}
	if res.Start.After(res.Sent[res.Markers[0]]) || res.End.Before(res.Sent[res.Markers[299]]) {
		t.Error("Start/End do not bracket the sends")
	}
	if res.Session == "" {
		t.Error("no session")
	}
	// The chat is left afterwards.
	if err := bob.waitFor(ctx, "chat closed", func() bool {
		return len(bob.chats) == 0 || bob.chats[res.Session] == nil || len(bob.chats[res.Session].members) == 0
	}); err != nil {
		t.Error(err)
	}
	for _, cfg := range []RateConfig{{}, {Rate: 10}, {Rate: 10, Count: 1, Prefix: "has space"}} {
		if _, err := RunRate(ctx, alice, bob, cfg); err == nil {
			t.Errorf("RunRate(%+v) succeeded", cfg)
		}
	}
}

// TestNoGoroutineLeak runs a busy session and cancels everything: every
// goroutine of servers and clients must end.
func TestNoGoroutineLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		srvCtx, stopSrv := context.WithCancel(context.Background())
		srv := NewServer(ServerConfig{}, nil)
		if err := srv.Start(srvCtx); err != nil {
			t.Fatal(err)
		}
		cliCtx, stopClients := context.WithCancel(context.Background())
		var clients []*Client
		for i, v := range []int{8, 11, 13, 15, 15, 8} {
			cl, err := Dial(cliCtx, ClientConfig{Dispatch: srv.Addrs().Dispatch.String(), Passport: fmt.Sprintf("u%d@example.com", i), Version: v})
			if err != nil {
				t.Fatal(err)
			}
			if err := cl.Login(cliCtx); err != nil {
				t.Fatal(err)
			}
			clients = append(clients, cl)
		}
		ch, err := clients[0].StartChat(cliCtx, "u1@example.com", "u2@example.com", "u3@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.SendAcked(cliCtx, "hello"); err != nil {
			t.Fatal(err)
		}
		ch2, err := clients[4].StartChat(cliCtx, "u5@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch2.Send(cliCtx, "hi"); err != nil {
			t.Fatal(err)
		}
		// A raw connection left half-open, mid-payload.
		raw, err := rawDial(srv.Addrs().SB.String())
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		raw.Write([]byte("MSG 1 N 100\r\nabc"))
		// Cancel the clients' context (not Close), then the server's.
		stopClients()
		for _, cl := range clients {
			cl.wg.Wait()
		}
		stopSrv()
		srv.Wait()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitUntil polls cond until it holds; it fails the test after 10 s (a
// guard against hanging, not a performance assertion).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
