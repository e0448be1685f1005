package capture

import (
	"testing"

	"golang.org/x/net/bpf"
)

// TestBPFPrefilter runs the kernel pre-filter in x/net/bpf's VM and checks
// that it keeps every packet the userland filter keeps, drops what it
// promises to drop, and applies the snap length.
func TestBPFPrefilter(t *testing.T) {
	C := ClientToServer
	convs := []*conv{
		newConv(t, "192.0.2.10:3331", "198.51.100.7:1863"),
		newConv(t, "192.0.2.11:3332", "198.51.100.8:80"),
		newConv(t, "203.0.113.5:3333", "198.51.100.9:1863"),
		newConv(t, "[2001:db8::5]:3334", "[2001:db8:1::9]:1863"),
		newConv(t, "[2001:db8:2::5]:3335", "[2001:db8:1::9]:443"),
	}
	type pkt struct {
		ip     []byte
		judged bool // the pre-filter can judge it (else it must pass)
	}
	var pkts []pkt
	for _, c := range convs {
		pkts = append(pkts, pkt{c.seg(C, "PA", 0, "hello"), true})
	}
	// IPv4 later fragment (no ports visible) and IPv6 with an extension header.
	big := convs[1].seg(C, "PA", 0, payload40)
	pkts = append(pkts, pkt{frag4(t, big, [2]int{24, 36})[0], false})
	pkts = append(pkts, pkt{withExt6(t, convs[4].seg(C, "PA", 0, "x"), 60), false})

	filters := []string{"", "port 1863", "port 80 port 443", "net 192.0.2.0/24", "host 2001:db8:1::9",
		"net 2001:db8::/33 port 1863", "net 198.51.100.0/25 net 2001:db8:2::/48"}
	for _, fs := range filters {
		f, err := ParseFilter(fs)
		if err != nil {
			t.Fatal(err)
		}
		for _, link := range []linkKind{lkEthernet, lkRaw} {
			hdr := uint32(14)
			if link == lkRaw {
				hdr = 0
			}
			prog, err := buildBPF(bpfOptions{linkHeader: hdr, snapLen: 96, filter: f, withFilter: true})
			if err != nil {
				t.Fatal(err)
			}
			vm, err := bpf.NewVM(prog)
			if err != nil {
				t.Fatal(err)
			}
			cf := compileFilter(f)
			for i, p := range pkts {
				fr := frame(t, link, p.ip)
				n, err := vm.Run(fr)
				if err != nil {
					t.Fatal(err)
				}
				var ip ipPacket
				if p.ip[0]>>4 == 4 {
					decodeIPv4(p.ip, &ip)
				} else {
					decodeIPv6(p.ip, &ip)
				}
				match := cf.matchHosts(ip.src, ip.dst)
				if match && cf.hasPorts && !ip.frag && len(ip.payload) >= 4 {
					match = cf.matchPorts(uint16(ip.payload[0])<<8|uint16(ip.payload[1]), uint16(ip.payload[2])<<8|uint16(ip.payload[3]))
				}
				switch {
				case match && n == 0:
					t.Errorf("%q %s packet %d: dropped by the kernel filter, kept by userland", fs, link, i)
				case !match && n != 0 && p.judged:
					t.Errorf("%q %s packet %d: kept, want dropped", fs, link, i)
				case n != 0 && n != 96:
					t.Errorf("%q %s packet %d: returns %d, want the snap length", fs, link, i, n)
				}
			}
		}
	}

	// A VLAN-tagged frame is not judged: it passes.
	prog, _ := buildBPF(bpfOptions{linkHeader: 14, snapLen: 1 << 16, filter: Filter{Ports: []uint16{9}}, withFilter: true})
	vm, _ := bpf.NewVM(prog)
	if n, _ := vm.Run(frame(t, lkVLAN, convs[0].seg(C, "PA", 0, "x"))); n == 0 {
		t.Error("VLAN frame dropped")
	}

	// Too many terms for 8-bit jumps: the program falls back to the snap
	// length alone (userland still filters).
	var many Filter
	for p := range 300 {
		many.Ports = append(many.Ports, uint16(1000+p))
	}
	prog, err := buildBPF(bpfOptions{linkHeader: 14, snapLen: 100, filter: many, withFilter: true})
	if err != nil {
		t.Fatal(err)
	}
	if prog[0] != (bpf.RetConstant{Val: 100}) {
		t.Errorf("fallback program starts with %v, want ret #100", prog[0])
	}

	// The loopback rule assembles (the VM cannot run extensions).
	prog, err = buildBPF(bpfOptions{linkHeader: 14, snapLen: 100, dropOutIf: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bpf.Assemble(prog); err != nil {
		t.Fatal(err)
	}
}
