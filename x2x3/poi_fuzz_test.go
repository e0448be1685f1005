package x2x3

import (
	"strings"
	"testing"

	"rcds/decoder"
	"rcds/x1"
)

// FuzzPOIEmit feeds events with hostile identities and contents (as a
// broken or malicious MSNP stream can produce them) to a POI whose task
// targets the event's owner: no panic, every PDU encodes and decodes, and
// nothing fails to encode.
func FuzzPOIEmit(f *testing.F) {
	f.Add(uint8(0), "alice@example.com", "bob@example.net", "carol@example.org", "hi", []byte("MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhi"), "text/plain", "UTF-8", "NLN", "nick")
	f.Add(uint8(9), "alice@example.com", "\xff\xfe", strings.Repeat("x", 400), "\x00", []byte("\n\n\xff"), "text/x-msmsgscontrol", "gb2312", "", "\xc3")
	f.Add(uint8(3), "ALICE@example.com", "", "", "", []byte(nil), "", "a b;c", "FLN", "")
	kinds := []decoder.Kind{
		decoder.KindLogin, decoder.KindLogout, decoder.KindPresence, decoder.KindContactAdd, decoder.KindNickname,
		decoder.KindPersonalMessage, decoder.KindSessionStart, decoder.KindSessionJoin, decoder.KindSessionLeave,
		decoder.KindMessage, decoder.KindTyping, decoder.KindFileInvite, decoder.KindP2P, decoder.KindInfo, decoder.KindError,
	}
	const xid = "aa000000-0000-4000-8000-000000000001"
	reg := newTestRegistry(f)
	activate(f, reg, newTask(xid, x1.X2andX3, []string{"alice@example.com", "10.0.0.0/8"}))
	sink := &memSink{}
	p := NewPOI(POIConfig{}, reg, sink, nil)
	f.Cleanup(func() { p.Close() })
	f.Fuzz(func(t *testing.T, k uint8, user, from, to, body string, raw []byte, ct, charset, status, nick string) {
		sink.mu.Lock()
		sink.pdus = nil
		sink.mu.Unlock()
		// The POI is shared by all inputs: compare its counter before and
		// after, so that a failure names the input that caused it.
		before := p.Stats().EncodeErrors
		c := newConn(user, "10.0.0.1:50001", "198.51.100.7:1863", 7, decoder.RoleSwitchboard)
		e := c.ev(kinds[int(k)%len(kinds)], int(k), k%2 == 0)
		e.From, e.To, e.Body, e.Raw, e.ContentType, e.Charset, e.Status, e.Nick, e.Contact = from, []string{to, user}, body, raw, ct, charset, status, nick, to
		p.Emit(e)
		p.Emit(c.ev(decoder.KindSessionLeave, 1, true))
		decodeStream(t, sink.all())
		if st := p.Stats(); st.EncodeErrors != before {
			t.Fatalf("stats %+v", st)
		}
	})
}
