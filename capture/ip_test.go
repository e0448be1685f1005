package capture

import (
	"strings"
	"testing"
	"time"
)

// payload40 is the 40 data bytes of the fragmented segments (a 60-byte IP
// payload with the TCP header).
const payload40 = "MSG 7 N 27\r\nMIME-Version: 1.0\r\nhello!!!!"

func TestIPv4Fragments(t *testing.T) {
	C := ClientToServer
	// pieces of the 60-byte IP payload (TCP header + 40 data bytes)
	tests := []struct {
		name      string
		cfg       Config
		frags     func(c *conv) []rec
		want      string // c2s stream
		fragments uint64
		complete  uint64
		drops     uint64
		overlaps  uint64
		decodeErr uint64
	}{
		{
			name: "in order",
			frags: func(c *conv) []rec {
				return fragRecs(frag4(t, c.seg(C, "PA", 0, payload40), [2]int{0, 24}, [2]int{24, 24}, [2]int{48, 12}))
			},
			want: payload40, fragments: 3, complete: 1,
		},
		{
			name: "out of order",
			frags: func(c *conv) []rec {
				return fragRecs(frag4(t, c.seg(C, "PA", 0, payload40), [2]int{48, 12}, [2]int{0, 24}, [2]int{24, 24}))
			},
			want: payload40, fragments: 3, complete: 1,
		},
		{
			name: "overlapping, first received wins",
			frags: func(c *conv) []rec {
				fs := frag4(t, c.seg(C, "PA", 0, payload40), [2]int{0, 32}, [2]int{24, 24}, [2]int{40, 20})
				// The second fragment disagrees on the 8 bytes it shares with the first.
				copy(fs[1][20:28], "XXXXXXXX")
				return fragRecs(fs)
			},
			want: payload40, fragments: 3, complete: 1, overlaps: 2,
		},
		{
			name: "duplicate fragment",
			frags: func(c *conv) []rec {
				fs := frag4(t, c.seg(C, "PA", 0, payload40), [2]int{0, 32}, [2]int{0, 32}, [2]int{32, 28})
				return fragRecs(fs)
			},
			want: payload40, fragments: 3, complete: 1, overlaps: 1,
		},
		{
			name: "bound exceeded",
			cfg:  Config{MaxFragmentBytes: 700},
			frags: func(c *conv) []rec {
				big := strings.Repeat("z", 980)
				fs := frag4(t, c.seg(C, "PA", 0, big), [2]int{0, 200}, [2]int{200, 200}, [2]int{400, 200}, [2]int{600, 200}, [2]int{800, 200})
				rs := fragRecs(fs)
				// The stream goes on after the lost segment.
				return append(rs, rec{at: ms(20), ip: c.seg(C, "PA", 980, "after")})
			},
			// the datagram is dropped at its second fragment, the rest start
			// a new one that never completes (dropped at the end)
			want: "after", fragments: 5, drops: 2,
		},
		{
			name: "timeout",
			cfg:  Config{FragmentTimeout: 30 * time.Second},
			frags: func(c *conv) []rec {
				fs := frag4(t, c.seg(C, "PA", 0, payload40), [2]int{0, 24}, [2]int{24, 24}, [2]int{48, 12})
				c2 := newConv(t, "192.0.2.99:5000", srv)
				return []rec{
					{at: 0, ip: fs[0]},
					{at: 40 * time.Second, ip: c2.seg(C, "PA", 0, "x")}, // time passes
					{at: 40*time.Second + ms(1), ip: fs[1]},
					{at: 40*time.Second + ms(2), ip: fs[2]},
				}
			},
			want: "", fragments: 3, drops: 2,
		},
		{
			name: "fragment size not a multiple of 8",
			frags: func(c *conv) []rec {
				return fragRecs(frag4(t, c.seg(C, "PA", 0, payload40), [2]int{0, 20}, [2]int{20, 40}))
			},
			want: "", fragments: 2, decodeErr: 1, drops: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newConv(t, cli, srv)
			recs := []rec{{at: 0, ip: c.seg(C, "S", -1, "")}}
			for _, r := range tc.frags(c) {
				r.at += ms(1)
				recs = append(recs, r)
			}
			r, st := mustRun(t, tc.cfg, pcapBytes(t, lkEthernet, recs))
			if len(r.conns) == 0 {
				t.Fatal("no connection")
			}
			if got := string(r.conns[0].data[C]); got != tc.want {
				t.Errorf("c2s %q, want %q", got, tc.want)
			}
			if st.Fragments != tc.fragments || st.FragmentsReassembled != tc.complete || st.FragmentDrops != tc.drops ||
				st.FragmentOverlaps != tc.overlaps || st.DecodeErrors != tc.decodeErr {
				t.Errorf("fragments %d complete %d drops %d overlaps %d decodeErr %d, want %d %d %d %d %d",
					st.Fragments, st.FragmentsReassembled, st.FragmentDrops, st.FragmentOverlaps, st.DecodeErrors,
					tc.fragments, tc.complete, tc.drops, tc.overlaps, tc.decodeErr)
			}
		})
	}
}

func fragRecs(fs [][]byte) []rec {
	var rs []rec
	for i, f := range fs {
		rs = append(rs, rec{at: ms(i), ip: f})
	}
	return rs
}

func TestIPv6(t *testing.T) {
	C, S := ClientToServer, ServerToClient
	const (
		cli6 = "[2001:db8::10]:3331"
		srv6 = "[2001:db8:1::7]:1863"
	)
	tests := []struct {
		name string
		recs func(c *conv) []rec
		c2s  string
		s2c  string
	}{
		{
			name: "extension headers",
			recs: func(c *conv) []rec {
				return []rec{
					{at: 0, ip: withExt6(t, c.seg(C, "PA", 0, "hop-by-hop and destination"), 0, 60)},
					{at: ms(1), ip: withExt6(t, c.seg(S, "PA", 0, "routing"), 43)},
				}
			},
			c2s: "hop-by-hop and destination", s2c: "routing",
		},
		{
			name: "fragments out of order",
			recs: func(c *conv) []rec {
				return fragRecs(frag6(t, c.seg(C, "PA", 0, payload40), 77, [2]int{32, 28}, [2]int{0, 16}, [2]int{16, 16}))
			},
			c2s: payload40,
		},
		{
			name: "fragments with a destination header inside",
			recs: func(c *conv) []rec {
				return fragRecs(frag6(t, withExt6(t, c.seg(C, "PA", 0, payload40), 60), 78, [2]int{0, 32}, [2]int{32, 36}))
			},
			c2s: payload40,
		},
		{
			name: "atomic fragment",
			recs: func(c *conv) []rec {
				return fragRecs(frag6(t, c.seg(C, "PA", 0, "whole"), 79, [2]int{0, 25}))
			},
			c2s: "whole",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newConv(t, cli6, srv6)
			r, st := mustRun(t, Config{}, pcapBytes(t, lkEthernet, tc.recs(c)))
			if len(r.conns) != 1 {
				t.Fatalf("%d connections, stats %+v", len(r.conns), st)
			}
			if got := r.conns[0].id.Flow(); got != cli6+"-"+srv6 {
				t.Errorf("flow %s", got)
			}
			if got := string(r.conns[0].data[C]); got != tc.c2s {
				t.Errorf("c2s %q, want %q", got, tc.c2s)
			}
			if got := string(r.conns[0].data[S]); got != tc.s2c {
				t.Errorf("s2c %q, want %q", got, tc.s2c)
			}
			if st.DecodeErrors != 0 || st.FragmentDrops != 0 || st.NonTCP != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestSnapLength(t *testing.T) {
	C := ClientToServer
	hdr := 14 + 20 + 20 // Ethernet, IPv4, TCP
	data := strings.Repeat("0123456789", 10)
	tests := []struct {
		name      string
		recs      func(c *conv) []rec
		events    []string
		truncated uint64
		gapBytes  uint64
	}{
		{
			name: "payload cut",
			recs: func(c *conv) []rec {
				return []rec{
					{at: 0, ip: c.seg(C, "PA", 0, data), caplen: hdr + 40},
					{at: ms(1), ip: c.seg(C, "PA", 100, "next")},
				}
			},
			events:    []string{`c2s "` + data[:40] + `"`, "c2s gap 60", `c2s "next"`, "close eof"},
			truncated: 1, gapBytes: 60,
		},
		{
			name: "cut segment buffered out of order",
			recs: func(c *conv) []rec {
				return []rec{
					{at: 0, ip: c.seg(C, "PA", 0, "first")},
					{at: ms(1), ip: c.seg(C, "PA", 10, data), caplen: hdr + 8},
					{at: ms(2), ip: c.seg(C, "PA", 5, "12345")},
					{at: ms(3), ip: c.seg(C, "PA", 110, "tail")},
				}
			},
			events:    []string{`c2s "first"`, `c2s "12345` + data[:8] + `"`, "c2s gap 92", `c2s "tail"`, "close eof"},
			truncated: 1, gapBytes: 92,
		},
		{
			name: "TCP header cut",
			recs: func(c *conv) []rec {
				return []rec{
					{at: 0, ip: c.seg(C, "PA", 0, "first")},
					{at: ms(1), ip: c.seg(C, "PA", 5, data), caplen: 14 + 20 + 10},
					{at: ms(2), ip: c.seg(C, "PA", 105, "tail")},
				}
			},
			// The cut segment is unusable; its bytes are a hole found at the end.
			events:    []string{`c2s "first"`, "c2s gap 100", `c2s "tail"`, "close eof"},
			truncated: 1, gapBytes: 100,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newConv(t, cli, srv)
			r, st := mustRun(t, Config{}, pcapBytes(t, lkEthernet, tc.recs(c)))
			if len(r.conns) != 1 {
				t.Fatalf("%d connections", len(r.conns))
			}
			if got := strings.Join(r.conns[0].events, "|"); got != strings.Join(tc.events, "|") {
				t.Errorf("events\n got %q\nwant %q", r.conns[0].events, tc.events)
			}
			if st.Truncated != tc.truncated || st.GapBytes != tc.gapBytes || st.DecodeErrors != 0 {
				t.Errorf("Truncated %d GapBytes %d DecodeErrors %d, want %d %d 0", st.Truncated, st.GapBytes, st.DecodeErrors, tc.truncated, tc.gapBytes)
			}
		})
	}
}

func TestEthernetTrailer(t *testing.T) {
	C, S := ClientToServer, ServerToClient
	c := newConv(t, cli, srv)
	trailer := func(ip []byte) []byte {
		return append(frame(t, lkEthernet, ip), "MSG te"...)
	}
	recs := []rec{
		{at: 0, raw: trailer(c.seg(C, "PA", 0, "TypingUser"))},
		{at: ms(1), raw: trailer(c.seg(S, "A", 0, ""))},
		{at: ms(2), raw: trailer(c.seg(S, "PA", 0, "HTTP"))},
		{at: ms(3), raw: trailer(c.seg(C, "PA", 10, "!"))},
	}
	r, st := mustRun(t, Config{}, pcapBytes(t, lkEthernet, recs))
	checkConns(t, r, []wantConn{{c2s: "TypingUser!", s2c: "HTTP", reason: CloseEOF, closeAt: ms(3)}})
	if st.Packets != 4 || st.DecodeErrors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestDecodeDrops(t *testing.T) {
	C := ClientToServer
	c := newConv(t, cli, srv)
	good := c.seg(C, "PA", 0, "ok")
	udp := append([]byte(nil), good...)
	udp[9] = 17 // UDP
	badIHL := append([]byte(nil), good...)
	badIHL[0] = 0x43
	badLen := append([]byte(nil), good...)
	badLen[2], badLen[3] = 0, 10 // shorter than the header
	badOff := append([]byte(nil), good...)
	badOff[20+12] = 0x20 // TCP data offset 2
	arp := frame(t, lkEthernet, good)
	arp[12], arp[13] = 0x08, 0x06
	recs := []rec{
		{at: 0, ip: good},
		{at: ms(1), ip: udp},
		{at: ms(2), ip: badIHL},
		{at: ms(3), ip: badLen},
		{at: ms(4), ip: badOff},
		{at: ms(5), raw: arp},
		{at: ms(6), raw: frame(t, lkEthernet, good)[:10]},
	}
	r, st := mustRun(t, Config{}, pcapBytes(t, lkEthernet, recs))
	checkConns(t, r, []wantConn{{c2s: "ok", reason: CloseEOF, closeAt: ms(6)}})
	want := Stats{Packets: 7, NonTCP: 2, DecodeErrors: 4, Flows: 1, StreamBytes: 2}
	st.Bytes = 0
	if st != want {
		t.Errorf("stats\n got %+v\nwant %+v", st, want)
	}

	// A link type the engine does not know.
	e := NewEngine(Config{}, nil)
	e.Packet([]byte{1, 2, 3}, ciAt(0, 3), 147)
	if st := e.Stats(); st.UnknownLink != 1 {
		t.Errorf("UnknownLink %d", st.UnknownLink)
	}
}

func TestFilter(t *testing.T) {
	C := ClientToServer
	mk := func(a, b string) *conv { return newConv(t, a, b) }
	convs := []*conv{
		mk("192.0.2.10:3331", "198.51.100.7:1863"),
		mk("192.0.2.11:3332", "198.51.100.8:80"),
		mk("203.0.113.5:3333", "198.51.100.9:1863"),
		mk("[2001:db8::5]:3334", "[2001:db8:1::9]:1863"),
	}
	var recs []rec
	for i, c := range convs {
		recs = append(recs, rec{at: ms(i), ip: c.seg(C, "PA", 0, "x")})
	}
	tests := []struct {
		filter string
		flows  []int
	}{
		{"", []int{0, 1, 2, 3}},
		{"port 1863", []int{0, 2, 3}},
		{"1863 80", []int{0, 1, 2, 3}},
		{"net 192.0.2.0/24", []int{0, 1}},
		{"host 198.51.100.9 host 2001:db8::5", []int{2, 3}},
		{"port 1863 net 192.0.2.0/24", []int{0}},
		{"port 1863 net 2001:db8::/32", []int{3}},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			f, err := ParseFilter(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			r, st := mustRun(t, Config{Filter: f}, pcapBytes(t, lkEthernet, recs))
			var got []int
			for _, cn := range r.conns {
				for i, c := range convs {
					if cn.id.Client == c.cli {
						got = append(got, i)
					}
				}
			}
			if !equalInts(got, tc.flows) {
				t.Errorf("flows %v, want %v", got, tc.flows)
			}
			if st.Filtered != uint64(len(convs)-len(tc.flows)) {
				t.Errorf("Filtered %d", st.Filtered)
			}
		})
	}
	for _, bad := range []string{"port", "port x", "host 1.2.3", "net 1.2.3.4/40", "port 70000"} {
		if _, err := ParseFilter(bad); err == nil {
			t.Errorf("ParseFilter(%q) accepted", bad)
		}
	}
	if f, _ := ParseFilter("port 1863 host 192.0.2.1 net 10.0.0.0/8"); f.String() != "port 1863 host 192.0.2.1 net 10.0.0.0/8" {
		t.Errorf("String %q", f.String())
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
