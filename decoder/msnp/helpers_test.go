package msnp

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"rcds/capture"
	"rcds/decoder"
)

// Test identities are made up (example.com / example.net, documentation
// address ranges).
var (
	t0       = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	clientAP = netip.MustParseAddrPort("192.0.2.10:40001")
	serverAP = netip.MustParseAddrPort("198.51.100.20:1863")
	testID   = capture.ConnID{Client: clientAP, Server: serverAP, Start: t0}
)

// recorder keeps deep copies of the events it receives.
type recorder struct{ events []decoder.Event }

func (r *recorder) Emit(e *decoder.Event) {
	c := *e
	if e.To != nil {
		c.To = append([]string{}, e.To...)
	}
	if e.Raw != nil {
		c.Raw = append([]byte{}, e.Raw...)
	}
	if e.Format != nil {
		f := *e.Format
		c.Format = &f
	}
	r.events = append(r.events, c)
}

func (r *recorder) kinds() []decoder.Kind {
	var k []decoder.Kind
	for _, e := range r.events {
		k = append(k, e.Kind)
	}
	return k
}

func (r *recorder) ofKind(k decoder.Kind) []decoder.Event {
	var out []decoder.Event
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// step is bytes travelling in one direction.
type step struct {
	dir  capture.Dir
	data string
}

// C and S build client and server steps; every "\n" in s becomes "\r\n"
// unless s already uses CRLF.
func C(s string) step { return step{capture.ClientToServer, crlf(s)} }
func S(s string) step { return step{capture.ServerToClient, crlf(s)} }

func crlf(s string) string {
	if strings.Contains(s, "\r\n") {
		return s
	}
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// msg builds a MSG command with a correct length.
func msg(head, mime string) string {
	return head + " " + itoa(len(mime)) + "\r\n" + mime
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// payloadCmd builds "head len\r\npayload".
func payloadCmd(head, payload string) string { return msg(head, payload) }

const (
	mimeText   = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=MS%20Shell%20Dlg; EF=B; CO=ff0000; CS=0; PF=22\r\n\r\n"
	mimeTyping = "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: %s\r\n\r\n\r\n"
)

func typing(user string) string { return strings.Replace(mimeTyping, "%s", user, 1) }

// feed runs steps through a new connection of p (one step per Data call,
// one second apart) and closes it with reason.
func feed(t testing.TB, p *Protocol, id capture.ConnID, steps []step, reason capture.CloseReason) *recorder {
	t.Helper()
	r := &recorder{}
	feedInto(p, id, r, steps, reason)
	return r
}

func feedInto(p *Protocol, id capture.ConnID, r decoder.Emitter, steps []step, reason capture.CloseReason) {
	c := p.NewConn(id, r)
	ts := id.Start
	for _, s := range steps {
		ts = ts.Add(time.Second)
		c.Data(s.dir, []byte(s.data), ts)
	}
	c.Close(reason, ts.Add(time.Second))
}

func newTestProtocol() *Protocol { return New(nil, Options{}) }
