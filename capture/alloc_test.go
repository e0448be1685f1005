package capture

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
)

// TestHotPathAllocations: in-order segments of a known connection, the bulk
// of real traffic, are decoded and delivered without allocating.
func TestHotPathAllocations(t *testing.T) {
	c := newConv(t, cli, srv)
	e := NewEngine(Config{}, discardHandler{})
	for i, r := range handshake(c) {
		d := frame(t, lkEthernet, r.ip)
		e.Packet(d, ciAt(time.Duration(i), len(d)), lkEthernet.linkType())
	}
	const n = 200
	var pkts [2][n][]byte
	for i := range n {
		pkts[0][i] = frame(t, lkVLAN, c.seg(ClientToServer, "PA", i*10, "0123456789"))
		pkts[1][i] = frame(t, lkVLAN, c.seg(ServerToClient, "PA", i*12, "abcdefghijkl"))
	}
	i := 0
	allocs := testing.AllocsPerRun(n-1, func() {
		for d := range 2 {
			p := pkts[d][i]
			e.Packet(p, ciAt(time.Duration(10+i), len(p)), lkVLAN.linkType())
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per pair of in-order packets, want 0", allocs)
	}
	if st := e.Stats(); st.StreamBytes != uint64(n*22) {
		t.Errorf("StreamBytes %d, want %d", st.StreamBytes, n*22)
	}
}

// TestTotalBufferBound: the bound on buffered pages of all connections
// together gives up holes, counted, and delivers what follows.
func TestTotalBufferBound(t *testing.T) {
	var recs []rec
	for k := range 4 {
		c := newConv(t, "192.0.2.1"+string(rune('0'+k))+":4000", srv)
		recs = append(recs, rec{at: ms(k), ip: c.seg(ClientToServer, "PA", 0, "start")})
		for i := 1; i <= 3; i++ { // byte 5 is lost; three segments wait behind it
			recs = append(recs, rec{at: ms(10*k + i), ip: c.seg(ClientToServer, "PA", 5+10*i, "0123456789")})
		}
	}
	r, st := mustRun(t, Config{MaxBufferedPagesTotal: 4}, pcapBytes(t, lkEthernet, recs))
	if len(r.conns) != 4 {
		t.Fatalf("%d connections", len(r.conns))
	}
	for _, c := range r.conns {
		if got := string(c.data[ClientToServer]); got != "start"+"0123456789"+"0123456789"+"0123456789" {
			t.Errorf("%s: %q", c.id.Flow(), got)
		}
	}
	// The first connection fills the bound (3 pages) and waits until the
	// end; each of the others then finds the bound reached at once.
	if st.PageDrops != 3 || st.Gaps != 4 || st.GapBytes != 4*10 {
		t.Errorf("PageDrops %d Gaps %d GapBytes %d, want 3 4 40", st.PageDrops, st.Gaps, st.GapBytes)
	}
}

// TestRecentSet: the memory of closed connections is bounded and forgets
// its oldest entries first, and entries expire.
func TestRecentSet(t *testing.T) {
	r := newRecentSet(16)
	ap := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 1000)
	}
	srvAP := mustAP(srv)
	for i := range 40 {
		r.add(ap(i), srvAP, reassembly.Sequence(1000), t0)
	}
	if len(r.ring) != 16 || len(r.m) != 16 {
		t.Fatalf("ring %d map %d, want 16 16", len(r.ring), len(r.m))
	}
	seg := &layers.TCP{Seq: 900}
	for i := range 40 {
		want := i >= 24
		if got := r.stale(ap(i), srvAP, seg, t0.Add(time.Second), time.Hour); got != want {
			t.Errorf("entry %d: stale %v, want %v", i, got, want)
		}
	}
	if r.stale(ap(30), srvAP, seg, t0.Add(recentWindow+time.Second), time.Hour) {
		t.Error("entry older than the window still stale")
	}
	if r.stale(ap(31), srvAP, &layers.TCP{Seq: 1000 + recentSpan}, t0, time.Hour) {
		t.Error("segment far from the final sequence number taken for a late one")
	}
}
