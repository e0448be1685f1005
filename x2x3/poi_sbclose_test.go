package x2x3

import (
	"net/netip"
	"testing"
	"time"

	"rcds/capture"
	"rcds/decoder"
	"rcds/decoder/msnp"
)

// TestSwitchboardTrackerForgetsClosedSwitchboards: switchboard connections
// that close (FIN or RST) without the owner's OUT end with the decoder's
// session_leave for the owner, so the POI's switchboard tracker forgets
// them instead of keeping them until its bound evicts them. The end of a
// capture file does not end them.
func TestSwitchboardTrackerForgetsClosedSwitchboards(t *testing.T) {
	lines := func(owner, peer string) []string {
		return []string{
			"USR 1 " + owner + " 123.456.789\r\n", "USR 1 OK " + owner + " Owner\r\n",
			"CAL 2 " + peer + "\r\n", "CAL 2 RINGING 11752013\r\n",
			"JOI " + peer + " Peer\r\n",
			"MSG 3 N 73\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhello there",
		}
	}
	tracked := func(p *POI) (int, int) {
		p.smu.Lock()
		defer p.smu.Unlock()
		return len(p.sbs.conns), len(p.sbs.byOwner)
	}
	for _, tc := range []struct {
		name   string
		reason capture.CloseReason
		left   int // tracker entries left after the connections closed
	}{
		{"fin", capture.CloseFIN, 0},
		{"rst", capture.CloseRST, 0},
		{"eof", capture.CloseEOF, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _, _ := poiWith(t, POIConfig{})
			dec := msnp.New(nil, msnp.Options{})
			owners := []string{alice, bob, carol}
			peers := []string{dave, carol, alice}
			var leaves int
			count := decoder.EmitterFunc(func(e *decoder.Event) {
				if e.Kind == decoder.KindError {
					t.Errorf("decoder error: %s", e.Detail)
				}
				if e.Kind == decoder.KindSessionLeave && e.From == e.User {
					leaves++
				}
				p.Emit(e)
			})
			for i := range 6 {
				id := capture.ConnID{
					Client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)}), 40000),
					Server: netip.MustParseAddrPort("198.51.100.20:1863"),
					Start:  t0.Add(time.Duration(i) * time.Minute),
				}
				c := dec.NewConn(id, count)
				ts := id.Start
				for j, l := range lines(owners[i%3], peers[i%3]) {
					ts = ts.Add(time.Second)
					dir := capture.ClientToServer
					if j%2 == 1 || j == 4 {
						dir = capture.ServerToClient
					}
					c.Data(dir, []byte(l), ts)
				}
				want := 1 // the earlier ones were forgotten at their close
				if tc.left > 0 {
					want = i + 1
				}
				if n, _ := tracked(p); n != want {
					t.Fatalf("after switchboard %d opened: %d tracked, want %d", i+1, n, want)
				}
				c.Close(tc.reason, ts.Add(time.Second))
			}
			if want := 6 - tc.left; leaves != want {
				t.Errorf("%d owner session_leave events, want %d", leaves, want)
			}
			if n, o := tracked(p); n != tc.left || (tc.left == 0) != (o == 0) {
				t.Errorf("tracker holds %d connections of %d owners, want %d", n, o, tc.left)
			}
		})
	}
}
