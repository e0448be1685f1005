package msnsim

import (
	"bytes"
	"fmt"
	"testing"
)

func TestPrivacyAndContacts(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	ctx := testCtx(t)
	for _, v := range []int{8, 15} {
		cl := login(t, ctx, srv, fmt.Sprintf("p%d@example.com", v), "P", v)
		if err := cl.SetPrivacy(ctx, false); err != nil {
			t.Fatalf("MSNP%d BLP BL: %v", v, err)
		}
		if err := cl.SetPrivacy(ctx, true); err != nil {
			t.Fatalf("MSNP%d BLP AL: %v", v, err)
		}
		for _, p := range []string{"Zed@Example.com", "amy@example.com"} {
			if err := cl.AddContact(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		got := cl.Contacts()
		if len(got) != 2 || got[0].Passport != "amy@example.com" || got[1].Passport != "zed@example.com" ||
			got[0].Status != "FLN" || got[0].Lists != 1 {
			t.Errorf("MSNP%d contacts: %+v", v, got)
		}
	}
}

func TestInboxOverflowIsCounted(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	ctx := testCtx(t)
	alice := login(t, ctx, srv, "alice@example.com", "A", 15)
	bob, err := Dial(ctx, ClientConfig{Dispatch: srv.Addrs().Dispatch.String(), Passport: "bob@example.com", InboxSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if err := bob.Login(ctx); err != nil {
		t.Fatal(err)
	}
	ch, err := alice.StartChat(ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := ch.SendAcked(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "two dropped messages", func() bool { return bob.Dropped() == 2 })
	if m := <-bob.Inbox(); m.Body != "x" {
		t.Errorf("kept %q", m.Body)
	}
}

func TestTapLimitAndStream(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{})
	ctx := testCtx(t)
	tap := NewTap(200)
	cl, err := Dial(ctx, ClientConfig{Dispatch: srv.Addrs().Dispatch.String(), Passport: "a@example.com", Version: 8, WrapConn: tap.Wrap})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Login(ctx); err != nil {
		t.Fatal(err)
	}
	if s := tap.Stream(0, true); !bytes.HasPrefix(s, []byte("VER 1 MSNP8 CVR0\r\nCVR 2 ")) {
		t.Errorf("dispatch stream starts %q", s)
	}
	var kept, lost int
	for _, r := range tap.Records() {
		kept += len(r.Data)
		lost += r.Lost
	}
	if kept > 200 || lost == 0 {
		t.Errorf("kept %d bytes (limit 200), lost %d", kept, lost)
	}
	if conns := tap.Conns(); len(conns) != 2 || conns[0].Server != srv.Addrs().Dispatch || conns[1].Server != srv.Addrs().NS ||
		conns[0].Start.IsZero() || conns[0].Start.After(conns[1].Start) {
		t.Errorf("conns %+v", conns)
	}
}
