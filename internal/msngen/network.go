package msngen

import (
	"net/netip"
)

// network hands out addresses. Clients get a fresh host each (10.0.0.0/8,
// or 2001:db8:c::/48), so that no two connections of a capture share a
// 4-tuple; servers come from documentation ranges (192.0.2.0/24,
// 198.51.100.0/24, 2001:db8:5::/48). Every server listens on 1863.
type network struct {
	r     *rng
	v6    float64
	hosts uint32
}

type host struct {
	addr netip.Addr
	port uint16
}

func newNetwork(r *rng, v6 float64) *network { return &network{r: r, v6: v6} }

func (n *network) isV6() bool { return n.v6 > 0 && n.r.chance(n.v6) }

func (n *network) newHost(v6 bool) *host {
	n.hosts++
	h := n.hosts
	var a netip.Addr
	if v6 {
		a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0x0c, 12: byte(h >> 24), 13: byte(h >> 16), 14: byte(h >> 8), 15: byte(h)})
	} else {
		// 10.0.0.1 .. 10.255.255.254, skipping .0 and .255 host bytes.
		k := (h - 1) % (256 * 256 * 254)
		a = netip.AddrFrom4([4]byte{10, byte(k / (256 * 254)), byte(k / 254 % 256), byte(k%254 + 1)})
	}
	return &host{addr: a, port: uint16(49152 + n.r.intn(12000))}
}

func (h *host) nextPort() uint16 {
	p := h.port
	h.port++
	if h.port < 49152 {
		h.port = 49152
	}
	return p
}

func (n *network) server(v6 bool, net4 [3]byte, net6 byte, last int) netip.AddrPort {
	if v6 {
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, net6, 15: byte(last)}), 1863)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{net4[0], net4[1], net4[2], byte(last)}), 1863)
}

func (n *network) dispatch(v6 bool) netip.AddrPort {
	return n.server(v6, [3]byte{192, 0, 2}, 5, 1)
}

func (n *network) ns(v6 bool) netip.AddrPort {
	return n.server(v6, [3]byte{192, 0, 2}, 5, 10+n.r.intn(32))
}

func (n *network) sb(v6 bool) netip.AddrPort {
	return n.server(v6, [3]byte{198, 51, 100}, 6, 1+n.r.intn(254))
}
