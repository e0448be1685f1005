package capture

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Filter selects TCP traffic by port and host. The zero Filter matches
// everything. A packet matches when (no Ports, or its source or destination
// port is one of Ports) and (no Hosts, or its source or destination address
// is in one of Hosts). The Engine applies it in userland; OpenLive also
// installs it as a kernel BPF pre-filter where it can be expressed.
type Filter struct {
	Ports []uint16
	Hosts []netip.Prefix
}

// IsZero reports whether f matches everything.
func (f Filter) IsZero() bool { return len(f.Ports) == 0 && len(f.Hosts) == 0 }

// String renders f in the syntax ParseFilter reads.
func (f Filter) String() string {
	var parts []string
	for _, p := range f.Ports {
		parts = append(parts, "port "+strconv.Itoa(int(p)))
	}
	for _, h := range f.Hosts {
		if h.IsSingleIP() {
			parts = append(parts, "host "+h.Addr().String())
		} else {
			parts = append(parts, "net "+h.String())
		}
	}
	return strings.Join(parts, " ")
}

// ParseFilter reads a small filter language: a space-separated list of
// "port N", "host ADDR" and "net PREFIX" terms ("1863" alone is a port,
// an address or prefix alone a host). Ports are OR-ed, hosts are OR-ed, and
// the two groups are AND-ed.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	words := strings.Fields(s)
	for i := 0; i < len(words); i++ {
		w := words[i]
		kind := ""
		switch w {
		case "port", "host", "net":
			if i+1 >= len(words) {
				return Filter{}, fmt.Errorf("capture: parse filter: %q needs a value: %w", w, ErrBadFilter)
			}
			kind, w = w, words[i+1]
			i++
		}
		if err := f.addTerm(kind, w); err != nil {
			return Filter{}, err
		}
	}
	return f, nil
}

func (f *Filter) addTerm(kind, w string) error {
	if kind == "port" || kind == "" {
		if n, err := strconv.ParseUint(w, 10, 16); err == nil && n > 0 {
			f.Ports = append(f.Ports, uint16(n))
			return nil
		} else if kind == "port" {
			return fmt.Errorf("capture: parse filter: bad port %q: %w", w, ErrBadFilter)
		}
	}
	if strings.Contains(w, "/") {
		p, err := netip.ParsePrefix(w)
		if err != nil {
			return fmt.Errorf("capture: parse filter: bad prefix %q: %w", w, ErrBadFilter)
		}
		f.Hosts = append(f.Hosts, p.Masked())
		return nil
	}
	a, err := netip.ParseAddr(w)
	if err != nil {
		return fmt.Errorf("capture: parse filter: bad address %q: %w", w, ErrBadFilter)
	}
	a = a.Unmap()
	f.Hosts = append(f.Hosts, netip.PrefixFrom(a, a.BitLen()))
	return nil
}

// compiledFilter is Filter in the form the hot path uses.
type compiledFilter struct {
	any      bool
	ports    [65536 / 64]uint64 // bitmap, used when hasPorts
	hasPorts bool
	hosts    []netip.Prefix
}

func compileFilter(f Filter) *compiledFilter {
	c := &compiledFilter{any: f.IsZero(), hasPorts: len(f.Ports) > 0}
	for _, p := range f.Ports {
		c.ports[p/64] |= 1 << (p % 64)
	}
	for _, h := range f.Hosts {
		if h.Addr().Is4In6() {
			h = netip.PrefixFrom(h.Addr().Unmap(), max(h.Bits()-96, 0))
		}
		c.hosts = append(c.hosts, h.Masked())
	}
	c.hosts = slices.Clip(c.hosts)
	return c
}

// matchHosts reports whether src or dst (4 or 16 bytes) is in a prefix.
func (c *compiledFilter) matchHosts(src, dst []byte) bool {
	if len(c.hosts) == 0 {
		return true
	}
	a, b := addrFrom(src), addrFrom(dst)
	for _, p := range c.hosts {
		if p.Contains(a) || p.Contains(b) {
			return true
		}
	}
	return false
}

// matchPorts reports whether sport or dport is a filtered port.
func (c *compiledFilter) matchPorts(sport, dport uint16) bool {
	if !c.hasPorts {
		return true
	}
	return c.ports[sport/64]&(1<<(sport%64)) != 0 || c.ports[dport/64]&(1<<(dport%64)) != 0
}

// addrFrom converts 4 or 16 address bytes; an IPv4-mapped IPv6 address
// becomes IPv4.
func addrFrom(b []byte) netip.Addr {
	if len(b) == 4 {
		return netip.AddrFrom4([4]byte(b))
	}
	return netip.AddrFrom16([16]byte(b)).Unmap()
}
