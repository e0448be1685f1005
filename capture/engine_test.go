package capture

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// handshake returns SYN, SYN/ACK, ACK of c at t=0..2ms.
func handshake(c *conv) []rec {
	return []rec{
		{at: 0, ip: c.seg(ClientToServer, "S", -1, "")},
		{at: time.Millisecond, ip: c.seg(ServerToClient, "SA", -1, "")},
		{at: 2 * time.Millisecond, ip: c.seg(ClientToServer, "A", 0, "")},
	}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestLinkTypes(t *testing.T) {
	v4 := [2]string{"192.0.2.10:3331", "198.51.100.7:1863"}
	v6 := [2]string{"[2001:db8::10]:3331", "[2001:db8:1::7]:1863"}
	tests := []struct {
		link linkKind
		addr [2]string
	}{
		{lkEthernet, v4}, {lkEthernet, v6},
		{lkVLAN, v4}, {lkVLAN, v6},
		{lkQinQ, v4}, {lkQinQ9100, v6},
		{lkSLL, v4}, {lkSLL, v6},
		{lkSLL2, v4}, {lkSLL2, v6},
		{lkRaw, v4}, {lkRaw, v6},
		{lkRaw12, v4}, {lkRaw14, v6},
		{lkIPv4, v4}, {lkIPv6, v6},
		{lkNullLE, v4}, {lkNullLE, v6},
		{lkNullBE, v4}, {lkNullBE, v6},
		{lkLoop, v4}, {lkLoop, v6},
	}
	for _, tc := range tests {
		t.Run(string(tc.link)+"/"+map[bool]string{true: "v6", false: "v4"}[strings.Contains(tc.addr[0], "[")], func(t *testing.T) {
			c := newConv(t, tc.addr[0], tc.addr[1])
			recs := append(handshake(c),
				rec{at: ms(3), ip: c.seg(ClientToServer, "PA", 0, "VER 1 MSNP8 CVR0\r\n")},
				rec{at: ms(4), ip: c.seg(ServerToClient, "PA", 0, "VER 1 MSNP8\r\n")},
				rec{at: ms(5), ip: c.seg(ClientToServer, "FA", 18, "")},
				rec{at: ms(6), ip: c.seg(ServerToClient, "FA", 13, "")},
				rec{at: ms(7), ip: c.seg(ClientToServer, "A", 19, "")},
			)
			r, st := mustRun(t, Config{}, pcapBytes(t, tc.link, recs))
			if len(r.conns) != 1 {
				t.Fatalf("%d connections, want 1", len(r.conns))
			}
			cn := r.conns[0]
			if got, want := cn.id.Flow(), tc.addr[0]+"-"+tc.addr[1]; got != want {
				t.Errorf("flow %s, want %s", got, want)
			}
			if !cn.id.Start.Equal(t0) {
				t.Errorf("start %v, want %v", cn.id.Start, t0)
			}
			if got := string(cn.data[ClientToServer]); got != "VER 1 MSNP8 CVR0\r\n" {
				t.Errorf("c2s %q", got)
			}
			if got := string(cn.data[ServerToClient]); got != "VER 1 MSNP8\r\n" {
				t.Errorf("s2c %q", got)
			}
			if cn.reason != CloseFIN || !cn.closeTs.Equal(t0.Add(ms(6))) {
				t.Errorf("closed %v at %v, want fin at +6ms", cn.reason, cn.closeTs.Sub(t0))
			}
			if st.Packets != 8 || st.Flows != 1 || st.DecodeErrors != 0 || st.NonTCP != 0 || st.UnknownLink != 0 || st.Gaps != 0 {
				t.Errorf("stats %+v", st)
			}
			if !slices.Equal(cn.dataTs[ClientToServer], []time.Time{t0.Add(ms(3))}) {
				t.Errorf("c2s data timestamps %v", cn.dataTs[ClientToServer])
			}
		})
	}
}
