package msnsim

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// dialogue plays one fixed exchange between alice and bob, both speaking
// version v, through a Tap, and returns the tap and the session ID.
func dialogue(t *testing.T, srv *Server, v int) (*Tap, string) {
	t.Helper()
	ctx := testCtx(t)
	tap := NewTap(0)
	dial := func(p, nick string) *Client {
		cl, err := Dial(ctx, ClientConfig{Dispatch: srv.Addrs().Dispatch.String(), Passport: p, Nick: nick,
			Version: v, WrapConn: tap.Wrap, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		if err := cl.Login(ctx); err != nil {
			t.Fatalf("login %s MSNP%d: %v", p, v, err)
		}
		return cl
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	alice := dial("alice@example.com", "Alice Liddell")
	bob := dial("bob@example.org", "Bob")
	must(alice.AddContact(ctx, "bob@example.org"))
	must(alice.WaitPresence(ctx, "bob@example.org", "NLN"))
	must(bob.AddContact(ctx, "alice@example.com"))
	must(bob.WaitPresence(ctx, "alice@example.com", "NLN"))
	must(alice.SetNick(ctx, "Alice in Wonderland"))
	must(bob.WaitContact(ctx, "alice@example.com", func(c Contact) bool { return c.Nick == "Alice in Wonderland" }))
	if v >= 11 {
		must(alice.SetPSM(ctx, "down the rabbit hole"))
		must(bob.WaitContact(ctx, "alice@example.com", func(c Contact) bool { return c.PSM == "down the rabbit hole" }))
	}
	must(bob.SetPresence(ctx, "AWY"))
	must(alice.WaitPresence(ctx, "bob@example.org", "AWY"))
	chat, err := alice.StartChat(ctx, "bob@example.org")
	must(err)
	bobChat, err := bob.WaitChat(ctx, chat.ID())
	must(err)
	_, err = chat.SendTyping(ctx)
	must(err)
	nextMessage(t, ctx, bob, KindTyping)
	_, err = chat.SendAcked(ctx, "Hello Bob, how are you?")
	must(err)
	nextMessage(t, ctx, bob, KindMessage)
	_, err = bobChat.Send(ctx, "Fine, thanks!\r\nAnd you?")
	must(err)
	nextMessage(t, ctx, alice, KindMessage)
	must(bobChat.Leave(ctx))
	must(chat.WaitLeft(ctx, "bob@example.org"))
	must(alice.Logout(ctx))
	must(bob.WaitPresence(ctx, "alice@example.com", "FLN"))
	must(bob.Logout(ctx))
	return tap, chat.ID()
}

// render prints each connection's commands, C: from the client, S: from
// the server, payload lines indented under their command, with the
// run-dependent values replaced.
func render(tap *Tap, srv *Server, session string) []byte {
	a := srv.Addrs()
	roles := map[string]string{a.Dispatch.String(): "dispatch", a.NS.String(): "ns", a.SB.String(): "sb"}
	var b bytes.Buffer
	conns := tap.Conns()
	recs := tap.Records()
	// One connection after the other: the order of events on different
	// connections depends on goroutine scheduling, within one it does not.
	// The two directions of a connection are printed apart too: a client
	// may write its next request before its reader has recorded what the
	// server pushed after the last reply.
	for c := range conns {
		fmt.Fprintf(&b, "== connection %d: %s\n", c, roles[conns[c].Server.String()])
		for _, fromClient := range []bool{true, false} {
			f := &framer{prefix: "S: ", verbs: serverPayloadVerbs}
			if fromClient {
				f = &framer{prefix: "C: ", verbs: clientPayloadVerbs}
			}
			for _, r := range recs {
				if r.Conn == c && r.Event == TapData && r.FromClient == fromClient {
					f.feed(&b, r.Data)
				}
			}
		}
	}
	out := b.String()
	out = strings.NewReplacer(a.Dispatch.String(), "<dispatch>", a.NS.String(), "<ns>", a.SB.String(), "<sb>",
		" "+session+" ", " <session> ", " "+session+"\n", " <session>\n").Replace(out)
	for _, re := range normalizers {
		out = re.re.ReplaceAllString(out, re.with)
	}
	return []byte(out)
}

// framer splits one direction of a connection into commands and payloads.
type framer struct {
	prefix string
	verbs  map[string]bool
	buf    []byte
}

func (f *framer) feed(w *bytes.Buffer, data []byte) {
	f.buf = append(f.buf, data...)
	for {
		i := bytes.Index(f.buf, []byte("\r\n"))
		if i < 0 {
			return
		}
		fields := strings.Fields(string(f.buf[:i]))
		n := 0
		if len(fields) > 1 && f.verbs[fields[0]] && !isPayloadlessReply(&command{Verb: fields[0], Args: fields[1:]}) {
			fmt.Sscan(fields[len(fields)-1], &n)
		}
		if len(f.buf) < i+2+n {
			return
		}
		fmt.Fprintf(w, "%s%s\n", f.prefix, f.buf[:i])
		if n > 0 {
			for _, l := range strings.Split(string(f.buf[i+2:i+2+n]), "\r\n") {
				fmt.Fprintf(w, "%s    | %s\n", f.prefix, l)
			}
		}
		f.buf = f.buf[i+2+n:]
	}
}

var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\b\d{9,10}\.\d+\.\d+\b`), "<cookie>"},
	{regexp.MustCompile(`ct=\d+`), "ct=<time>"},
	{regexp.MustCompile(`tpf=[0-9a-f]+`), "tpf=<hex>"},
	{regexp.MustCompile(`t=[0-9a-f]+&p=[0-9a-f]*`), "t=<ticket>&p=<profile>"},
	{regexp.MustCompile(`MBI_KEY_OLD \S+`), "MBI_KEY_OLD <nonce>"},
	{regexp.MustCompile(`(&p=<profile> )\S+`), "${1}<response>"},
	{regexp.MustCompile(`LoginTime: \d+`), "LoginTime: <time>"},
	{regexp.MustCompile(`MemberIdLow: \d+`), "MemberIdLow: <n>"},
	{regexp.MustCompile(`MSPAuth: [0-9a-f]+`), "MSPAuth: <hex>"},
	{regexp.MustCompile(`ClientPort: \d+`), "ClientPort: <port>"},
	{regexp.MustCompile(`MSG Hotmail Hotmail \d+`), "MSG Hotmail Hotmail <len>"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}[-+]\d\d:\d\d`), "<timestamp>"},
}

func TestWireGolden(t *testing.T) {
	for _, v := range []int{8, 11, 13, 15} {
		t.Run(fmt.Sprintf("MSNP%d", v), func(t *testing.T) {
			srv, _ := startServer(t, ServerConfig{})
			tap, session := dialogue(t, srv, v)
			got := render(tap, srv, session)
			path := filepath.Join("testdata", fmt.Sprintf("dialogue_msnp%d.golden", v))
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("dialogue differs from %s (run with -update after checking):\n%s", path, lineDiff(want, got))
			}
		})
	}
}

// lineDiff shows the first differing lines.
func lineDiff(want, got []byte) string {
	w := strings.Split(string(want), "\n")
	g := strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, wl, gl)
		}
	}
	return "(no line differs)"
}
