package capture

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// wantConn is what one connection must have delivered.
type wantConn struct {
	flow     string
	c2s, s2c string
	events   []string // exact sequence of calls when not nil
	reason   CloseReason
	closeAt  time.Duration   // -1: not checked
	c2sAt    []time.Duration // timestamps of the c2s Data calls, when not nil
}

func checkConns(t *testing.T, r *recorder, want []wantConn) {
	t.Helper()
	if len(r.conns) != len(want) {
		for _, c := range r.conns {
			t.Logf("conn %s: %q", c.id.Flow(), c.events)
		}
		t.Fatalf("%d connections, want %d", len(r.conns), len(want))
	}
	for i, w := range want {
		c := r.conns[i]
		if w.flow != "" && c.id.Flow() != w.flow {
			t.Errorf("conn %d: flow %s, want %s", i, c.id.Flow(), w.flow)
		}
		if got := string(c.data[ClientToServer]); got != w.c2s {
			t.Errorf("conn %d: c2s %q, want %q", i, got, w.c2s)
		}
		if got := string(c.data[ServerToClient]); got != w.s2c {
			t.Errorf("conn %d: s2c %q, want %q", i, got, w.s2c)
		}
		if w.events != nil && strings.Join(c.events, "|") != strings.Join(w.events, "|") {
			t.Errorf("conn %d: events\n got %q\nwant %q", i, c.events, w.events)
		}
		if w.c2sAt != nil {
			var got []time.Duration
			for _, ts := range c.dataTs[ClientToServer] {
				got = append(got, ts.Sub(t0))
			}
			if fmt.Sprint(got) != fmt.Sprint(w.c2sAt) {
				t.Errorf("conn %d: c2s data at %v, want %v", i, got, w.c2sAt)
			}
		}
		if !c.closed || c.reason != w.reason {
			t.Errorf("conn %d: closed=%v reason %v, want %v", i, c.closed, c.reason, w.reason)
		}
		if w.closeAt >= 0 && !c.closeTs.Equal(t0.Add(w.closeAt)) {
			t.Errorf("conn %d: closed at %v, want %v", i, c.closeTs.Sub(t0), w.closeAt)
		}
	}
}

const (
	cli = "192.0.2.10:3331"
	srv = "198.51.100.7:1863"
)

func TestSegmentation(t *testing.T) {
	C, S := ClientToServer, ServerToClient
	tests := []struct {
		name  string
		cfg   Config
		recs  func(c *conv) []rec
		want  []wantConn
		stats func(t *testing.T, st Stats)
	}{
		{
			name: "split",
			recs: func(c *conv) []rec {
				return append(handshake(c),
					rec{at: ms(3), ip: c.seg(C, "PA", 0, "MSG 1 N")},
					rec{at: ms(4), ip: c.seg(C, "PA", 7, " 5\r")},
					rec{at: ms(5), ip: c.seg(C, "PA", 10, "\nhello")})
			},
			want: []wantConn{{flow: cli + "-" + srv, c2s: "MSG 1 N 5\r\nhello",
				events: []string{`c2s "MSG 1 N"`, `c2s " 5\r"`, `c2s "\nhello"`, "close eof"}, reason: CloseEOF, closeAt: ms(5)}},
		},
		{
			name: "coalesced",
			recs: func(c *conv) []rec {
				return append(handshake(c),
					rec{at: ms(3), ip: c.seg(S, "PA", 0, "JOI a@b.c A\r\nIRO 1 1 1 x@y.z X\r\nMSG a@b.c A 2\r\nhi")})
			},
			want: []wantConn{{s2c: "JOI a@b.c A\r\nIRO 1 1 1 x@y.z X\r\nMSG a@b.c A 2\r\nhi", reason: CloseEOF, closeAt: ms(3)}},
		},
		{
			name: "reordered",
			recs: func(c *conv) []rec {
				return append(handshake(c),
					rec{at: ms(3), ip: c.seg(C, "PA", 5, "world")},
					rec{at: ms(4), ip: c.seg(C, "PA", 0, "hello")},
					rec{at: ms(5), ip: c.seg(C, "PA", 15, "!")},
					rec{at: ms(6), ip: c.seg(C, "PA", 10, "12345")})
			},
			// Each hole is filled by a later packet, whose timestamp the bytes
			// behind it then carry.
			want: []wantConn{{c2s: "helloworld12345!", events: []string{`c2s "helloworld"`, `c2s "12345!"`, "close eof"},
				c2sAt: []time.Duration{ms(4), ms(6)}, reason: CloseEOF, closeAt: ms(6)}},
			stats: func(t *testing.T, st Stats) {
				if st.OutOfOrder != 2 || st.Gaps != 0 {
					t.Errorf("OutOfOrder %d Gaps %d, want 2 and 0", st.OutOfOrder, st.Gaps)
				}
			},
		},
		{
			name: "retransmitted",
			recs: func(c *conv) []rec {
				return append(handshake(c),
					rec{at: ms(3), ip: c.seg(C, "PA", 0, "hello")},
					rec{at: ms(4), ip: c.seg(C, "PA", 0, "hello")},
					rec{at: ms(5), ip: c.seg(C, "PA", 5, "world")},
					rec{at: ms(6), ip: c.seg(C, "PA", 5, "world")})
			},
			want: []wantConn{{c2s: "helloworld", events: []string{`c2s "hello"`, `c2s "world"`, "close eof"}, reason: CloseEOF, closeAt: ms(6)}},
			stats: func(t *testing.T, st Stats) {
				if st.OverlapBytes != 10 {
					t.Errorf("OverlapBytes %d, want 10", st.OverlapBytes)
				}
			},
		},
		{
			name: "overlapping",
			recs: func(c *conv) []rec {
				return append(handshake(c),
					rec{at: ms(3), ip: c.seg(C, "PA", 0, "0123456789")},
					rec{at: ms(4), ip: c.seg(C, "PA", 5, "56789abcde")},
					// A retransmission that disagrees with what was delivered:
					// the bytes delivered first stand.
					rec{at: ms(5), ip: c.seg(C, "PA", 12, "XXXfghij")})
			},
			want: []wantConn{{c2s: "0123456789abcdefghij", events: []string{`c2s "0123456789"`, `c2s "abcde"`, `c2s "fghij"`, "close eof"}, reason: CloseEOF, closeAt: ms(5)}},
		},
		{
			name: "overlapping out of order",
			recs: func(c *conv) []rec {
				return append(handshake(c),
					rec{at: ms(3), ip: c.seg(C, "PA", 10, "abcdefghij")},
					rec{at: ms(4), ip: c.seg(C, "PA", 5, "56789abc")},
					rec{at: ms(5), ip: c.seg(C, "PA", 0, "01234")})
			},
			want: []wantConn{{c2s: "0123456789abcdefghij", reason: CloseEOF, closeAt: ms(5)}},
		},
		{
			name: "one direction only, no SYN",
			recs: func(c *conv) []rec {
				c.cli = mustAP("192.0.2.10:1100") // an old Windows ephemeral port, below the server's
				return []rec{
					{at: ms(0), ip: c.seg(C, "PA", 0, "PNG\r\n")},
					{at: ms(1), ip: c.seg(C, "PA", 5, "PNG\r\n")},
				}
			},
			want: []wantConn{{flow: "192.0.2.10:1100-" + srv, c2s: "PNG\r\nPNG\r\n", reason: CloseEOF, closeAt: ms(1)}},
		},
		{
			name: "one direction only, FIN",
			recs: func(c *conv) []rec {
				return []rec{
					{at: ms(0), ip: c.seg(S, "PA", 0, "QNG 50\r\n")},
					{at: ms(1), ip: c.seg(S, "FA", 8, "")},
				}
			},
			want: []wantConn{{flow: cli + "-" + srv, s2c: "QNG 50\r\n", reason: CloseFIN, closeAt: ms(1)}},
		},
		{
			name: "no SYN, server speaks first",
			recs: func(c *conv) []rec {
				return []rec{
					{at: ms(0), ip: c.seg(S, "PA", 100, "MSG x@y.z X 2\r\nhi")},
					{at: ms(1), ip: c.seg(C, "PA", 200, "MSG 5 N 2\r\nyo")},
					{at: ms(2), ip: c.seg(S, "PA", 117, "BYE x@y.z\r\n")},
				}
			},
			want: []wantConn{{flow: cli + "-" + srv, c2s: "MSG 5 N 2\r\nyo", s2c: "MSG x@y.z X 2\r\nhiBYE x@y.z\r\n", reason: CloseEOF, closeAt: ms(2)}},
		},
		{
			name: "FIN with data, FIN ahead of data",
			recs: func(c *conv) []rec {
				return append(handshake(c),
					rec{at: ms(3), ip: c.seg(C, "FPA", 5, "bye\r\n")},
					rec{at: ms(4), ip: c.seg(C, "PA", 0, "OUT\r\n")},
					rec{at: ms(5), ip: c.seg(S, "FA", 0, "")})
			},
			want: []wantConn{{c2s: "OUT\r\nbye\r\n", events: []string{`c2s "OUT\r\nbye\r\n"`, "close fin"}, reason: CloseFIN, closeAt: ms(5)}},
		},
		{
			name: "RST, then data in flight",
			recs: func(c *conv) []rec {
				return append(handshake(c),
					rec{at: ms(3), ip: c.seg(S, "PA", 0, "hello")},
					rec{at: ms(4), ip: c.seg(C, "RA", 0, "")},
					rec{at: ms(5), ip: c.seg(S, "PA", 5, "world")},
					rec{at: ms(6), ip: c.seg(S, "PA", 0, "hello")})
			},
			want: []wantConn{{s2c: "hello", reason: CloseRST, closeAt: ms(4)}},
			stats: func(t *testing.T, st Stats) {
				if st.LateSegments != 2 || st.Flows != 1 {
					t.Errorf("LateSegments %d Flows %d, want 2 and 1 (a segment of the old connection must not open a new one)", st.LateSegments, st.Flows)
				}
			},
		},
		{
			name: "port reuse after FIN",
			recs: func(c *conv) []rec {
				rs := append(handshake(c),
					rec{at: ms(3), ip: c.seg(C, "PA", 0, "one")},
					rec{at: ms(4), ip: c.seg(C, "FA", 3, "")},
					rec{at: ms(5), ip: c.seg(S, "FA", 0, "")})
				c.isn = [2]uint32{5000, 9000}
				for _, r := range handshake(c) {
					r.at += ms(10)
					rs = append(rs, r)
				}
				return append(rs, rec{at: ms(13), ip: c.seg(C, "PA", 0, "two")})
			},
			want: []wantConn{{c2s: "one", reason: CloseFIN, closeAt: ms(5)}, {c2s: "two", reason: CloseEOF, closeAt: ms(13)}},
		},
		{
			name: "port reuse without FIN, retransmitted SYN",
			recs: func(c *conv) []rec {
				rs := []rec{{at: ms(0), ip: c.seg(C, "S", -1, "")}, {at: ms(1), ip: c.seg(C, "S", -1, "")}} // the same SYN again
				rs = append(rs, rec{at: ms(2), ip: c.seg(S, "SA", -1, "")}, rec{at: ms(3), ip: c.seg(C, "PA", 0, "one")})
				c.isn = [2]uint32{5000, 9000} // the end of the first connection is not in the capture
				for _, r := range handshake(c) {
					r.at += ms(10)
					rs = append(rs, r)
				}
				return append(rs, rec{at: ms(13), ip: c.seg(C, "PA", 0, "two")}, rec{at: ms(14), ip: c.seg(S, "PA", 0, "2")})
			},
			want: []wantConn{{c2s: "one", reason: CloseReused, closeAt: ms(10)}, {c2s: "two", s2c: "2", reason: CloseEOF, closeAt: ms(14)}},
		},
		{
			name: "sequence numbers wrap",
			recs: func(c *conv) []rec {
				rs := handshake(c)
				for i := 0; i < 6; i++ { // the server's ISN is 4096 below the wrap
					rs = append(rs, rec{at: ms(3 + i), ip: c.seg(S, "PA", i*1000, strings.Repeat(string(rune('a'+i)), 1000))})
				}
				return rs
			},
			want: []wantConn{{s2c: strings.Repeat("a", 1000) + strings.Repeat("b", 1000) + strings.Repeat("c", 1000) +
				strings.Repeat("d", 1000) + strings.Repeat("e", 1000) + strings.Repeat("f", 1000), reason: CloseEOF, closeAt: ms(8)}},
		},
		{
			name: "idle timeout",
			cfg:  Config{IdleTimeout: time.Minute},
			recs: func(c *conv) []rec {
				rs := append(handshake(c), rec{at: ms(3), ip: c.seg(C, "PA", 0, "PNG\r\n")})
				c2 := newConv(t, "192.0.2.11:4000", srv)
				return append(rs, rec{at: 2 * time.Minute, ip: c2.seg(C, "PA", 0, "QRY\r\n")})
			},
			want: []wantConn{
				{c2s: "PNG\r\n", reason: CloseIdle, closeAt: 2 * time.Minute},
				{c2s: "QRY\r\n", reason: CloseEOF, closeAt: 2 * time.Minute},
			},
		},
		{
			name: "hole given up after the reorder timeout",
			cfg:  Config{ReorderTimeout: time.Second},
			recs: func(c *conv) []rec {
				return append(handshake(c),
					rec{at: ms(3), ip: c.seg(C, "PA", 0, "abc")},
					rec{at: ms(4), ip: c.seg(C, "PA", 8, "ijk")}, // 5 bytes lost
					rec{at: ms(2500), ip: c.seg(S, "PA", 0, "later")},
					rec{at: ms(2600), ip: c.seg(C, "PA", 11, "lmn")})
			},
			// The bytes behind the hole carry the time of their own packet.
			want: []wantConn{{c2s: "abcijklmn", s2c: "later",
				events: []string{`c2s "abc"`, `s2c "later"`, "c2s gap 5", `c2s "ijk"`, `c2s "lmn"`, "close eof"},
				c2sAt:  []time.Duration{ms(3), ms(4), ms(2600)}, reason: CloseEOF, closeAt: ms(2600)}},
			stats: func(t *testing.T, st Stats) {
				if st.Gaps != 1 || st.GapBytes != 5 || st.PageDrops != 0 {
					t.Errorf("Gaps %d GapBytes %d PageDrops %d, want 1 5 0", st.Gaps, st.GapBytes, st.PageDrops)
				}
			},
		},
		{
			name: "hole at the end of the capture",
			recs: func(c *conv) []rec {
				return append(handshake(c),
					rec{at: ms(3), ip: c.seg(C, "PA", 0, "abc")},
					rec{at: ms(4), ip: c.seg(C, "PA", 8, "ijk")})
			},
			want: []wantConn{{c2s: "abcijk", events: []string{`c2s "abc"`, "c2s gap 5", `c2s "ijk"`, "close eof"}, reason: CloseEOF, closeAt: ms(4)}},
		},
		{
			name: "buffer bound per connection",
			cfg:  Config{MaxBufferedPagesPerConn: 2},
			recs: func(c *conv) []rec {
				rs := append(handshake(c), rec{at: ms(3), ip: c.seg(C, "PA", 0, "0123456789")})
				// 10..20 is lost; five segments wait behind the hole.
				for i := 2; i < 7; i++ {
					rs = append(rs, rec{at: ms(2 + i), ip: c.seg(C, "PA", i*10, strings.Repeat(string(rune('a'+i)), 10))})
				}
				return rs
			},
			want: []wantConn{{c2s: "0123456789ccccccccccddddddddddeeeeeeeeeeffffffffffgggggggggg", reason: CloseEOF, closeAt: ms(8)}},
			stats: func(t *testing.T, st Stats) {
				if st.PageDrops != 1 || st.Gaps != 1 || st.GapBytes != 10 {
					t.Errorf("PageDrops %d Gaps %d GapBytes %d, want 1 1 10", st.PageDrops, st.Gaps, st.GapBytes)
				}
			},
		},
		{
			name: "flow table bound evicts the least recently active",
			cfg:  Config{MaxFlows: 2},
			recs: func(c *conv) []rec {
				c2 := newConv(t, "192.0.2.11:4000", srv)
				c3 := newConv(t, "192.0.2.12:4000", srv)
				return []rec{
					{at: ms(0), ip: c.seg(C, "PA", 0, "one")},
					{at: ms(1), ip: c2.seg(C, "PA", 0, "two")},
					{at: ms(2), ip: c.seg(C, "PA", 3, "ONE")}, // c2 is now the least recently active
					{at: ms(3), ip: c3.seg(C, "PA", 0, "three")},
					{at: ms(4), ip: c2.seg(C, "PA", 3, "TWO")}, // opens c2 again (evicting c), mid-stream
				}
			},
			want: []wantConn{
				{c2s: "oneONE", reason: CloseEvicted, closeAt: ms(4)},
				{c2s: "two", reason: CloseEvicted, closeAt: ms(3)},
				{c2s: "three", reason: CloseEOF, closeAt: ms(4)},
				{c2s: "TWO", reason: CloseEOF, closeAt: ms(4)},
			},
			stats: func(t *testing.T, st Stats) {
				if st.FlowsEvicted != 2 || st.Flows != 4 || st.FlowDrops != 0 {
					t.Errorf("FlowsEvicted %d Flows %d FlowDrops %d, want 2 4 0", st.FlowsEvicted, st.Flows, st.FlowDrops)
				}
			},
		},
		{
			name: "pure ACKs of unknown connections are not tracked",
			recs: func(c *conv) []rec {
				return []rec{
					{at: ms(0), ip: c.seg(C, "A", 0, "")},
					{at: ms(1), ip: c.seg(S, "FA", 0, "")},
					{at: ms(2), ip: c.seg(C, "RA", 0, "")},
				}
			},
			want: nil,
			stats: func(t *testing.T, st Stats) {
				if st.Ignored != 3 || st.Flows != 0 {
					t.Errorf("Ignored %d Flows %d, want 3 0", st.Ignored, st.Flows)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newConv(t, cli, srv)
			r, st := mustRun(t, tc.cfg, pcapBytes(t, lkEthernet, tc.recs(c)))
			checkConns(t, r, tc.want)
			if st.DecodeErrors != 0 || st.NonTCP != 0 {
				t.Errorf("stats %+v", st)
			}
			if tc.stats != nil {
				tc.stats(t, st)
			}
		})
	}
}
