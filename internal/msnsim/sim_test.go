package msnsim

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

// testLogger logs to the test output when -v is set.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() && os.Getenv("MSNSIM_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startServer runs a server until the test ends and checks that it stops.
func startServer(t testing.TB, cfg ServerConfig) (*Server, context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv := NewServer(cfg, testLogger(t))
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("server goroutines did not end after cancel")
		}
	})
	return srv, ctx
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// login dials and logs in a client; it is closed when the test ends.
func login(t testing.TB, ctx context.Context, srv *Server, passport, nick string, version int) *Client {
	t.Helper()
	cl, err := Dial(ctx, ClientConfig{Dispatch: srv.Addrs().Dispatch.String(), Passport: passport, Nick: nick,
		Version: version, Logger: testLogger(t), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Dial %s: %v", passport, err)
	}
	t.Cleanup(func() { cl.Close() })
	if err := cl.Login(ctx); err != nil {
		t.Fatalf("Login %s (MSNP%d): %v", passport, version, err)
	}
	return cl
}

// nextMessage waits for the next inbox message of the given kind, failing
// the test on timeout. Messages of other kinds are returned to the caller
// through skipped.
func nextMessage(t testing.TB, ctx context.Context, cl *Client, kind string) Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		select {
		case m := <-cl.Inbox():
			if m.Kind == kind {
				return m
			}
		case <-ctx.Done():
			t.Fatalf("%s: no %s message: %v", cl.Passport(), kind, ctx.Err())
		}
	}
}

func TestLoginPresenceChatMixedVersions(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	ctx := testCtx(t)

	alice := login(t, ctx, srv, "alice@example.com", "Alice A", 8)
	bob := login(t, ctx, srv, "bob@example.org", "Bob B", 15)
	carol := login(t, ctx, srv, "carol@example.net", "Carol", 11)

	for _, pair := range [][2]*Client{{alice, bob}, {bob, alice}, {alice, carol}, {carol, alice}, {bob, carol}, {carol, bob}} {
		if err := pair[0].AddContact(ctx, pair[1].Passport()); err != nil {
			t.Fatalf("%s AddContact %s: %v", pair[0].Passport(), pair[1].Passport(), err)
		}
	}
	if err := alice.WaitPresence(ctx, "bob@example.org", "NLN"); err != nil {
		t.Fatalf("alice does not see bob online: %v", err)
	}
	if err := bob.SetPresence(ctx, "BSY"); err != nil {
		t.Fatal(err)
	}
	if err := alice.WaitPresence(ctx, "bob@example.org", "BSY"); err != nil {
		t.Fatalf("alice does not see bob busy: %v", err)
	}
	if err := bob.SetPSM(ctx, "on <holiday> & away"); err != nil {
		t.Fatal(err)
	}
	if err := carol.WaitContact(ctx, "bob@example.org", func(c Contact) bool { return c.PSM == "on <holiday> & away" }); err != nil {
		t.Fatalf("carol does not see bob's PSM: %v", err)
	}
	if err := alice.SetNick(ctx, "Alice Renamed"); err != nil {
		t.Fatal(err)
	}
	if err := bob.WaitContact(ctx, "alice@example.com", func(c Contact) bool { return c.Nick == "Alice Renamed" }); err != nil {
		t.Fatalf("bob does not see alice's new nick: %v", err)
	}

	chat, err := alice.StartChat(ctx, "bob@example.org", "carol@example.net")
	if err != nil {
		t.Fatalf("StartChat: %v", err)
	}
	bobChat, err := bob.WaitChat(ctx, chat.ID())
	if err != nil {
		t.Fatal(err)
	}
	carolChat, err := carol.WaitChat(ctx, chat.ID())
	if err != nil {
		t.Fatal(err)
	}
	if err := bobChat.WaitMembers(ctx, "alice@example.com", "carol@example.net"); err != nil {
		t.Fatalf("bob's members: %v (have %v)", err, bobChat.Members())
	}
	if err := carolChat.WaitMembers(ctx, "alice@example.com", "bob@example.org"); err != nil {
		t.Fatalf("carol's members: %v (have %v)", err, carolChat.Members())
	}

	if _, err := chat.SendTyping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := chat.SendAcked(ctx, "héllo\r\nworld"); err != nil {
		t.Fatalf("SendAcked: %v", err)
	}
	for _, cl := range []*Client{bob, carol} {
		ty := nextMessage(t, ctx, cl, KindTyping)
		if ty.From != "alice@example.com" || ty.Headers["TypingUser"] != "alice@example.com" {
			t.Errorf("%s typing: %+v", cl.Passport(), ty)
		}
		m := nextMessage(t, ctx, cl, KindMessage)
		if m.From != "alice@example.com" || m.FromNick != "Alice Renamed" || m.Body != "héllo\r\nworld" || m.Chat != chat.ID() {
			t.Errorf("%s got %+v", cl.Passport(), m)
		}
	}
	if _, err := bobChat.Send(ctx, "reply from bob"); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*Client{alice, carol} {
		m := nextMessage(t, ctx, cl, KindMessage)
		if m.From != "bob@example.org" || m.Body != "reply from bob" {
			t.Errorf("%s got %+v", cl.Passport(), m)
		}
	}
	if err := carolChat.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if err := chat.WaitLeft(ctx, "carol@example.net"); err != nil {
		t.Fatal(err)
	}
	if err := bob.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if err := alice.WaitPresence(ctx, "bob@example.org", "FLN"); err != nil {
		t.Fatalf("alice does not see bob offline: %v", err)
	}
	if err := chat.WaitLeft(ctx, "bob@example.org"); err != nil {
		t.Fatal(err)
	}
	// Alone now: an acked message is refused, an N message is NAKed later.
	if _, err := chat.SendAcked(ctx, "anyone?"); !errors.Is(err, ErrNAK) {
		t.Fatalf("send to empty switchboard: err = %v, want ErrNAK", err)
	}
	if _, err := chat.Send(ctx, "hello?"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "NAK for an N message", func() bool { return chat.Naks() == 1 })
}

func TestInviteAndP2PMessages(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	ctx := testCtx(t)
	alice := login(t, ctx, srv, "alice@example.com", "Alice", 11)
	bob := login(t, ctx, srv, "bob@example.com", "Bob", 15)
	ch, err := alice.StartChat(ctx, bob.Passport())
	if err != nil {
		t.Fatal(err)
	}
	invite := "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\n" +
		"Application-Name: File Transfer\r\nInvitation-Command: INVITE\r\nInvitation-Cookie: 42\r\n" +
		"Application-File: notes.txt\r\nApplication-FileSize: 12\r\n\r\n"
	if _, err := ch.SendMIME(ctx, 'N', []byte(invite)); err != nil {
		t.Fatal(err)
	}
	p2p := append([]byte("MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: bob@example.com\r\n\r\n"),
		make([]byte, 48)...)
	p2p = append(p2p, 0, 0, 0, 0)
	if _, err := ch.SendMIME(ctx, 'D', p2p); err != nil {
		t.Fatalf("P2P with ack D: %v", err)
	}
	if m := nextMessage(t, ctx, bob, KindFileInvite); !strings.Contains(m.Body, "Invitation-Command: INVITE") {
		t.Errorf("invite body %q", m.Body)
	}
	if m := nextMessage(t, ctx, bob, KindP2P); len(m.Raw) != len(p2p) || m.ContentType != "application/x-msnmsgrp2p" {
		t.Errorf("p2p: %d bytes, content type %q", len(m.Raw), m.ContentType)
	}
	if _, err := ch.SendMIME(ctx, 'X', []byte("x")); err == nil {
		t.Error("ack type X accepted")
	}
}
