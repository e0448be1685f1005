package msnsim

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawConn dials addr; the connection is closed when the test ends and has
// a generous deadline so that a server bug fails the test instead of
// hanging it.
func rawConn(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// readLines reads until EOF and returns the lines (CRLF removed); it fails
// the test if the connection is not closed by the server.
func readUntilClosed(t *testing.T, r *bufio.Reader) []string {
	t.Helper()
	var lines []string
	for {
		l, err := r.ReadString('\n')
		if l != "" {
			lines = append(lines, strings.TrimRight(l, "\r\n"))
		}
		if errors.Is(err, io.EOF) {
			return lines
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("server did not close the connection; read so far: %q", lines)
			}
			return lines // reset by peer also counts as closed
		}
	}
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	l, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

func TestHostileInput(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{MaxLine: 256, MaxPayload: 1024})
	a := srv.Addrs()
	tests := []struct {
		name  string
		addr  string
		send  string
		want  []string // lines expected before the server hangs up
		close bool     // the server must hang up
	}{
		{"line too long", a.NS.String(), "VER 1 " + strings.Repeat("A", 400) + "\r\n", nil, true},
		{"no newline at all", a.SB.String(), strings.Repeat("x", 300), nil, true},
		{"payload too large", a.SB.String(), "MSG 1 N 999999999\r\n", []string{"200 1"}, true},
		{"payload length not a number", a.SB.String(), "MSG 7 N abc\r\nxyz", []string{"200 7"}, true},
		{"payload length negative", a.NS.String(), "UUX 3 -5\r\n", []string{"200 3"}, true},
		{"unsupported versions", a.Dispatch.String(), "VER 1 MSNP2 MSNP7 MSNP99 CVR0\r\n", []string{"VER 1 0"}, true},
		{"bad SB cookie", a.SB.String(), "USR 1 eve@example.com 123.456.789\r\n", []string{"911 1"}, true},
		{"bad ANS", a.SB.String(), "ANS 1 eve@example.com 123.456.789 42\r\n", []string{"911 1"}, true},
		{"garbage then OUT", a.NS.String(), "\x00\x01\x02 garbage\r\nFOO 9\r\nCHG 3 NLN 0\r\nVER 4 MSNP8 CVR0\r\nOUT\r\n",
			[]string{"200", "200 9", "715 3", "VER 4 MSNP8 CVR0"}, true},
		{"login commands on dispatch", a.Dispatch.String(), "CVR 1 x\r\nUSR 2 TWN I a@b.c\r\nOUT\r\n",
			[]string{"715 1", "715 2"}, true},
		{"wrong auth package", a.NS.String(), "VER 1 MSNP15 CVR0\r\nUSR 2 TWN I a@b.c\r\nUSR 3 SSO I not-a-passport\r\nOUT\r\n",
			[]string{"VER 1 MSNP15 CVR0", "911 2", "208 3"}, true},
		{"SB commands before USR", a.SB.String(), "CAL 1 a@b.c\r\nMSG 2 A 3\r\nabcOUT\r\n",
			[]string{"715 1", "715 2"}, true},
		{"empty lines are ignored", a.NS.String(), "\r\n\r\n \r\nOUT\r\n", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, r := rawConn(t, tc.addr)
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			got := readUntilClosed(t, r)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("server answered %q, want %q", got, tc.want)
			}
		})
	}
	// The server still serves well-behaved clients.
	ctx := testCtx(t)
	alice := login(t, ctx, srv, "alice@example.com", "A", 15)
	bob := login(t, ctx, srv, "bob@example.com", "B", 8)
	ch, err := alice.StartChat(ctx, bob.Passport())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.SendAcked(ctx, "still alive"); err != nil {
		t.Fatal(err)
	}
	if m := nextMessage(t, ctx, bob, KindMessage); m.Body != "still alive" {
		t.Errorf("got %q", m.Body)
	}
	if st := srv.Stats(); st.Dropped < 5 {
		t.Errorf("Stats.Dropped = %d, want at least the 5 framing violations", st.Dropped)
	}
}

func TestMaxConnsAndIdleTimeout(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{MaxConns: 2, IdleTimeout: 200 * time.Millisecond})
	addr := srv.Addrs().NS.String()
	c1, r1 := rawConn(t, addr)
	c2, r2 := rawConn(t, addr)
	// Both accepted: they answer.
	for _, cr := range []struct {
		c net.Conn
		r *bufio.Reader
	}{{c1, r1}, {c2, r2}} {
		io.WriteString(cr.c, "VER 1 MSNP8 CVR0\r\n")
		if l := readLine(t, cr.r); l != "VER 1 MSNP8 CVR0" {
			t.Fatalf("got %q", l)
		}
	}
	// A third is refused while two are open.
	_, r3 := rawConn(t, addr)
	if got := readUntilClosed(t, r3); len(got) != 0 {
		t.Errorf("refused connection got %q", got)
	}
	if st := srv.Stats(); st.Rejected != 1 {
		t.Errorf("Rejected = %d, want 1", st.Rejected)
	}
	// Silent connections are closed by the idle timeout.
	readUntilClosed(t, r1)
	readUntilClosed(t, r2)
}

// gateConn blocks reads while the gate is shut (a client that stops
// reading); Close releases it.
type gateConn struct {
	net.Conn
	mu     sync.Mutex
	shut   bool
	opened chan struct{}
	closed chan struct{}
	once   sync.Once
}

func (g *gateConn) Read(b []byte) (int, error) {
	g.mu.Lock()
	shut := g.shut
	g.mu.Unlock()
	if shut {
		select {
		case <-g.opened:
		case <-g.closed:
			return 0, net.ErrClosed
		}
	}
	return g.Conn.Read(b)
}

func (g *gateConn) Close() error {
	g.once.Do(func() { close(g.closed) })
	return g.Conn.Close()
}

func TestSlowReaderIsDropped(t *testing.T) {
	srv, _ := startServer(t, ServerConfig{SendQueue: 8, WriteTimeout: 2 * time.Second})
	ctx := testCtx(t)
	var mu sync.Mutex
	var gates []*gateConn
	alice := login(t, ctx, srv, "alice@example.com", "A", 15)
	bob, err := Dial(ctx, ClientConfig{Dispatch: srv.Addrs().Dispatch.String(), Passport: "bob@example.com", Version: 8,
		WrapConn: func(c net.Conn) net.Conn {
			g := &gateConn{Conn: c, opened: make(chan struct{}), closed: make(chan struct{})}
			mu.Lock()
			gates = append(gates, g)
			mu.Unlock()
			return g
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if err := bob.Login(ctx); err != nil {
		t.Fatal(err)
	}
	carol := login(t, ctx, srv, "carol@example.com", "C", 11)
	ch, err := alice.StartChat(ctx, "bob@example.com", "carol@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// Bob stops reading.
	mu.Lock()
	for _, g := range gates {
		g.mu.Lock()
		g.shut = true
		g.mu.Unlock()
	}
	mu.Unlock()
	// Alice floods; bob's switchboard connection must be dropped (BYE) while
	// carol keeps receiving.
	big := strings.Repeat("z", 16000)
	carolGot := 0
	for i := 0; ; i++ {
		if _, err := ch.Send(ctx, big); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		// Drain carol so that only bob is slow.
		for drained := false; !drained; {
			select {
			case <-carol.Inbox():
				carolGot++
			default:
				drained = true
			}
		}
		if !containsString(ch.Members(), "bob@example.com") {
			break
		}
		if i > 20000 {
			t.Fatal("bob was never dropped")
		}
	}
	if st := srv.Stats(); st.Dropped == 0 {
		t.Errorf("Stats.Dropped = 0 after dropping a slow reader")
	}
	if _, err := ch.SendAcked(ctx, "carol still here"); err != nil {
		t.Fatalf("after the drop: %v", err)
	}
	for {
		m := nextMessage(t, ctx, carol, KindMessage)
		if m.Body == "carol still here" {
			break
		}
	}
	if carolGot == 0 {
		t.Error("carol received nothing during the flood")
	}
}

func containsString(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func rawDial(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }
