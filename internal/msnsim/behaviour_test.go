package msnsim

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func serverCode(err error) int {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestErrorsAndEdgeCases(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	ctx := testCtx(t)
	alice := login(t, ctx, srv, "alice@example.com", "Alice", 8)
	bob := login(t, ctx, srv, "bob@example.com", "Bob", 15)
	carol := login(t, ctx, srv, "carol@example.com", "Carol", 11)

	t.Run("chat with an offline user is refused (217)", func(t *testing.T) {
		_, err := alice.StartChat(ctx, "nobody@example.com")
		if serverCode(err) != 217 || !errors.Is(err, ErrServer) {
			t.Fatalf("err = %v, want server error 217", err)
		}
		if len(alice.Chats()) != 0 {
			t.Errorf("failed chat left behind: %v", alice.Chats())
		}
	})
	t.Run("duplicate contact is refused (215) in MSNP8 and 11, accepted by ADL", func(t *testing.T) {
		for _, cl := range []*Client{alice, bob, carol} {
			if err := cl.AddContact(ctx, "dave@example.com"); err != nil {
				t.Fatalf("%s: first add: %v", cl.Passport(), err)
			}
			err := cl.AddContact(ctx, "dave@example.com")
			if cl.Version() < 13 && serverCode(err) != 215 {
				t.Errorf("%s MSNP%d: second add: %v, want 215", cl.Passport(), cl.Version(), err)
			}
			if cl.Version() >= 13 && err != nil {
				t.Errorf("%s MSNP%d: ADL is idempotent, got %v", cl.Passport(), cl.Version(), err)
			}
		}
	})
	t.Run("personal message needs MSNP11", func(t *testing.T) {
		if err := alice.SetPSM(ctx, "x"); !errors.Is(err, ErrUnsupported) {
			t.Fatalf("err = %v, want ErrUnsupported", err)
		}
	})
	t.Run("raw commands", func(t *testing.T) {
		tests := []struct {
			cl   *Client
			verb string
			args []string
			want string // reply tokens joined, trid replaced by T
		}{
			{alice, "GTC", []string{"N"}, "GTC T 3 N"},
			{alice, "BLP", []string{"BL"}, "BLP T 4 BL"},
			{carol, "GTC", []string{"A"}, "GTC T A"},
			{carol, "BLP", []string{"AL"}, "BLP T AL"},
			{bob, "GTC", []string{"A"}, "200 T"},
			{bob, "SYN", []string{"0", "0"}, "200 T"},
			{alice, "ADD", []string{"FL", "not-a-passport", "x", "0"}, "208 T"},
			{alice, "ADD", []string{"RL", "x@example.com", "x", "0"}, "201 T"},
			{carol, "ADD", []string{"FL", "x@example.com", "x"}, "200 T"},
			{alice, "CHG", []string{"FOO", "0"}, "201 T"},
			{alice, "XFR", []string{"NS"}, "201 T"},
			{bob, "PRP", []string{"PHH", "555"}, "PRP T PHH 555"},
			{bob, "FOO", nil, "200 T"},
		}
		for _, tc := range tests {
			got, err := tc.cl.Command(ctx, tc.verb, tc.args...)
			if got == nil {
				t.Errorf("%s %v: %v", tc.verb, tc.args, err)
				continue
			}
			got[1] = "T"
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("MSNP%d %s %v: got %q, want %q", tc.cl.Version(), tc.verb, tc.args, s, tc.want)
			}
		}
	})
	t.Run("hidden users cannot chat (913) nor be called (217)", func(t *testing.T) {
		if err := carol.SetPresence(ctx, "HDN"); err != nil {
			t.Fatal(err)
		}
		if _, err := carol.StartChat(ctx, alice.Passport()); serverCode(err) != 913 {
			t.Errorf("hidden StartChat: %v, want 913", err)
		}
		if _, err := alice.StartChat(ctx, carol.Passport()); serverCode(err) != 217 {
			t.Errorf("calling a hidden user: %v, want 217", err)
		}
		if err := carol.SetPresence(ctx, "NLN"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("calling a member twice (215)", func(t *testing.T) {
		ch, err := alice.StartChat(ctx, bob.Passport())
		if err != nil {
			t.Fatal(err)
		}
		defer ch.Leave(ctx)
		if err := ch.Invite(ctx, bob.Passport()); serverCode(err) != 215 {
			t.Errorf("second CAL: %v, want 215", err)
		}
	})
}

func TestSecondLoginKicksFirst(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	ctx := testCtx(t)
	first := login(t, ctx, srv, "alice@example.com", "Alice", 15)
	second := login(t, ctx, srv, "alice@example.com", "Alice again", 8)
	if err := first.waitFor(ctx, "logout", func() bool { return !first.loggedIn }); err != nil {
		t.Fatalf("first session still logged in: %v", err)
	}
	if !second.LoggedIn() || !srv.Online("alice@example.com") {
		t.Fatal("second session is not online")
	}
}

func TestRelogin(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	ctx := testCtx(t)
	for _, v := range []int{8, 11, 15} {
		t.Run(fmt.Sprintf("MSNP%d", v), func(t *testing.T) {
			p := fmt.Sprintf("user%d@example.com", v)
			cl := login(t, ctx, srv, p, "First", v)
			if err := cl.AddContact(ctx, "friend@example.com"); err != nil {
				t.Fatal(err)
			}
			if err := cl.Logout(ctx); err != nil {
				t.Fatal(err)
			}
			if cl.LoggedIn() || srv.Online(p) {
				t.Fatal("still online after Logout")
			}
			if err := cl.Login(ctx); err != nil {
				t.Fatalf("second login: %v", err)
			}
			c, ok := cl.Contact("friend@example.com")
			if !ok || c.Lists&1 == 0 {
				t.Fatalf("contact list after relogin: %+v", cl.Contacts())
			}
			if v < 13 && c.Lists != 1 {
				// SYN sent the stored list: FL only.
				t.Errorf("LST list bits = %d, want 1", c.Lists)
			}
			if cl.Nick() != "First" {
				t.Errorf("nick after relogin = %q", cl.Nick())
			}
		})
	}
}

func TestDialValidation(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	ctx := testCtx(t)
	addr := srv.Addrs().Dispatch.String()
	tests := []struct {
		name string
		cfg  ClientConfig
		want error
	}{
		{"version too old", ClientConfig{Dispatch: addr, Passport: "a@b.com", Version: 7}, ErrUnsupported},
		{"version too new", ClientConfig{Dispatch: addr, Passport: "a@b.com", Version: 21}, ErrUnsupported},
		{"bad passport", ClientConfig{Dispatch: addr, Passport: "ab.com"}, nil},
		{"bad status", ClientConfig{Dispatch: addr, Passport: "a@b.com", Status: "XXX"}, nil},
		{"no address", ClientConfig{Passport: "a@b.com"}, nil},
		{"nothing listening", ClientConfig{Dispatch: "127.0.0.1:1", Passport: "a@b.com"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cl, err := Dial(ctx, tc.cfg)
			if err == nil {
				cl.Close()
				t.Fatal("Dial succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	cl, err := Dial(ctx, ClientConfig{Dispatch: addr, Passport: "a@b.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for name, f := range map[string]func() error{
		"SetPresence": func() error { return cl.SetPresence(ctx, "NLN") },
		"AddContact":  func() error { return cl.AddContact(ctx, "x@y.com") },
		"SetNick":     func() error { return cl.SetNick(ctx, "x") },
		"StartChat":   func() error { _, err := cl.StartChat(ctx, "x@y.com"); return err },
		"Logout":      func() error { return cl.Logout(ctx) },
	} {
		if err := f(); !errors.Is(err, ErrNotLoggedIn) {
			t.Errorf("%s before Login: %v, want ErrNotLoggedIn", name, err)
		}
	}
}

func TestServerTableBounds(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{MaxAccounts: 3, MaxContacts: 2, MaxSBMembers: 2, MaxTickets: 3})
	ctx := testCtx(t)
	alice := login(t, ctx, srv, "alice@example.com", "A", 11)
	bob := login(t, ctx, srv, "bob@example.com", "B", 15)
	carol := login(t, ctx, srv, "carol@example.com", "C", 8)
	dave, err := Dial(ctx, ClientConfig{Dispatch: srv.Addrs().Dispatch.String(), Passport: "dave@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer dave.Close()
	if err := dave.Login(ctx); serverCode(err) != 500 {
		t.Errorf("fourth account: %v, want 500", err)
	}
	for i, want := range []int{0, 0, 210} {
		err := alice.AddContact(ctx, fmt.Sprintf("c%d@example.com", i))
		if serverCode(err) != want {
			t.Errorf("contact %d: %v, want code %d", i, err, want)
		}
	}
	ch, err := alice.StartChat(ctx, bob.Passport())
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Invite(ctx, carol.Passport()); serverCode(err) != 713 {
		t.Errorf("third member: %v, want 713", err)
	}
	// Tickets: the chat's cookies (XFR, RNG) were used up; three unused
	// cookies fill the table.
	var codes []int
	for i := 0; i < 4; i++ {
		r, err := carol.Command(ctx, "XFR", "SB")
		if err != nil {
			codes = append(codes, serverCode(err))
			continue
		}
		codes = append(codes, len(r))
	}
	// XFR trid SB addr CKI cookie = 6 tokens; then the table (3) is full.
	if fmt.Sprint(codes) != "[6 6 6 500]" {
		t.Errorf("XFR results %v: want the table to fill up and answer 500", codes)
	}
}
