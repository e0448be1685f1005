package msnp

import (
	"net/netip"
	"reflect"
	"runtime"
	"testing"
	"time"
	"weak"

	"rcds/capture"
	"rcds/decoder"
)

// checkLinks verifies the link table's map, list and Stats.Links agree and
// returns the size.
func checkLinks(t *testing.T, p *Protocol) int {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	var prev *linkEntry
	for e := p.oldest; e != nil; e = e.next {
		if e.prev != prev || p.links[e.key] != e {
			t.Fatalf("link list broken at %q", e.key)
		}
		prev = e
		n++
	}
	if prev != p.newest || n != len(p.links) || uint64(n) != p.Stats().Links {
		t.Fatalf("list %d, map %d, Stats.Links %d", n, len(p.links), p.Stats().Links)
	}
	return n
}

// TestLinkTableReleased: after many logins that open switchboards by XFR
// (the owner) and RNG (the invitee) and close everything, the link table is
// empty, and it never holds more than the cookies not yet presented.
func TestLinkTableReleased(t *testing.T) {
	p := newTestProtocol()
	ts := t0
	port := uint16(20000)
	newID := func(server string) capture.ConnID {
		port++
		return capture.ConnID{Client: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.10"), port), Server: netip.MustParseAddrPort(server), Start: ts}
	}
	data := func(c decoder.ConnDecoder, s step) {
		ts = ts.Add(time.Millisecond)
		c.Data(s.dir, []byte(s.data), ts)
	}
	const sessions = 2000
	for i := 0; i < sessions; i++ {
		r := &recorder{}
		nsA := p.NewConn(newID("198.51.100.20:1863"), r)
		nsB := p.NewConn(newID("198.51.100.20:1863"), r)
		data(nsA, C("USR 1 MD5 I "+alice+"\n"))
		data(nsA, S("USR 1 OK "+alice+" Alice 1 0\n"))
		data(nsB, C("USR 1 MD5 I "+bob+"\n"))
		data(nsB, S("USR 1 OK "+bob+" Bob 1 0\n"))
		ck := itoa(100000 + i)
		data(nsA, C("XFR 2 SB\n"))
		data(nsA, S("XFR 2 SB 198.51.100.41:1863 CKI "+ck+".1\n"))
		sbA := p.NewConn(newID("198.51.100.41:1863"), r)
		data(sbA, C("USR 3 "+alice+" "+ck+".1\n"))
		data(sbA, S("USR 3 OK "+alice+" Alice\n"))
		data(sbA, C("CAL 4 "+bob+"\n"))
		data(nsB, S("RNG "+ck+" 198.51.100.41:1863 CKI "+ck+".2 "+alice+" Alice\n"))
		if n := checkLinks(t, p); n != 1 {
			t.Fatalf("session %d: %d links while one RNG cookie is pending", i, n)
		}
		sbB := p.NewConn(newID("198.51.100.41:1863"), r)
		data(sbB, C("ANS 5 "+bob+" "+ck+".2 "+ck+"\n"))
		data(sbB, C(msg("MSG 6 N", mimeText+"hi")))
		if n := checkLinks(t, p); n != 0 {
			t.Fatalf("session %d: %d links after both cookies were presented", i, n)
		}
		data(sbA, C("OUT\n"))
		data(sbB, C("OUT\n"))
		for _, c := range []decoder.ConnDecoder{sbA, sbB, nsA, nsB} {
			c.Close(capture.CloseFIN, ts)
		}
		// The invitee's message went to the inviter named by the RNG.
		if m := r.ofKind(decoder.KindMessage); len(m) != 1 || m[0].User != bob || !reflect.DeepEqual(m[0].To, []string{alice}) {
			t.Fatalf("session %d: messages %+v", i, m)
		}
	}
	if n := checkLinks(t, p); n != 0 {
		t.Fatalf("%d links after every connection closed", n)
	}
	if s := p.Stats(); s.LinksEvicted != 0 || s.LinksExpired != 0 || s.Links != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestLinkDoesNotKeepClosedConn: a pending RNG link outlives its NS
// connection only as the caller's name; the closed connection can be
// collected, and the ANS still learns its inviter.
func TestLinkDoesNotKeepClosedConn(t *testing.T) {
	p := newTestProtocol()
	ns := p.NewConn(testID, &recorder{}).(*conn)
	ns.Data(capture.ServerToClient, []byte("RNG 55 198.51.100.40:1863 CKI 12345.678 "+bob+" Bob\r\n"), t0)
	ns.Close(capture.CloseFIN, t0)
	wp := weak.Make(ns)
	ns = nil
	for i := 0; i < 10 && wp.Value() != nil; i++ {
		runtime.GC()
	}
	if wp.Value() != nil {
		t.Fatal("a closed NS connection is still reachable from the link table")
	}
	if n := checkLinks(t, p); n != 1 {
		t.Fatalf("%d links", n)
	}
	sbID := capture.ConnID{Client: netip.MustParseAddrPort("192.0.2.10:40002"), Server: netip.MustParseAddrPort("198.51.100.40:1863"), Start: t0}
	sr := &recorder{}
	sb := p.NewConn(sbID, sr)
	sb.Data(capture.ClientToServer, []byte("ANS 9 "+alice+" 12345.678 55\r\n"), t0.Add(time.Second))
	sb.Data(capture.ClientToServer, []byte(msg("MSG 10 N", mimeText+"hi bob")), t0.Add(2*time.Second))
	sb.Close(capture.CloseEOF, t0.Add(3*time.Second))
	if m := sr.ofKind(decoder.KindMessage); len(m) != 1 || !reflect.DeepEqual(m[0].To, []string{bob}) {
		t.Fatalf("messages %+v", m)
	}
	if n := checkLinks(t, p); n != 0 {
		t.Fatalf("%d links after the cookie was presented", n)
	}
}

// TestLinkTTL: a cookie no switchboard presents is forgotten LinkTTL of
// packet time later; one presented in time still links.
func TestLinkTTL(t *testing.T) {
	p := New(nil, Options{LinkTTL: time.Minute})
	r := &recorder{}
	ns := p.NewConn(testID, r)
	ns.Data(capture.ServerToClient, []byte("XFR 7 SB 198.51.100.41:1863 CKI 111.222\r\n"), t0)
	ns.Data(capture.ServerToClient, []byte("XFR 8 SB 198.51.100.41:1863 CKI 333.444\r\n"), t0.Add(50*time.Second))
	ns.Data(capture.ServerToClient, []byte("XFR 9 SB 198.51.100.41:1863 CKI 555.666\r\n"), t0.Add(70*time.Second))
	if n := checkLinks(t, p); n != 2 {
		t.Fatalf("%d links", n)
	}
	if _, ok := p.lookupLink([]byte("111.222")); ok {
		t.Fatal("link kept beyond LinkTTL")
	}
	sbID := capture.ConnID{Client: netip.MustParseAddrPort("192.0.2.10:40009"), Server: netip.MustParseAddrPort("198.51.100.41:1863"), Start: t0}
	sb := p.NewConn(sbID, &recorder{})
	sb.Data(capture.ClientToServer, []byte("USR 1 "+alice+" 555.666\r\n"), t0.Add(100*time.Second))
	ns.Data(capture.ServerToClient, []byte("NLN NLN "+bob+" Bob 0\r\n"), t0.Add(101*time.Second))
	if got := r.ofKind(decoder.KindPresence); len(got) != 1 || got[0].User != alice {
		t.Fatalf("presence %+v", got)
	}
	if n := checkLinks(t, p); n != 1 { // 333.444, made 50 s before
		t.Fatalf("%d links", n)
	}
	ns.Data(capture.ServerToClient, []byte("XFR 10 SB 198.51.100.41:1863 CKI 777.888\r\n"), t0.Add(200*time.Second))
	if n := checkLinks(t, p); n != 1 {
		t.Fatalf("%d links", n)
	}
	if s := p.Stats(); s.LinksExpired != 2 || s.LinksEvicted != 0 {
		t.Fatalf("stats %+v", s)
	}
	ns.Close(capture.CloseFIN, t0.Add(201*time.Second))
}
