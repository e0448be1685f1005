//go:build linux

package capture

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Hardware types of /sys/class/net/IFACE/type whose frames are Ethernet.
const (
	arphrdEther    = 1
	arphrdLoopback = 772
)

// LiveSource captures from a Linux interface with AF_PACKET TPACKET_V3
// (memory-mapped ring, no libpcap).
type LiveSource struct {
	tp   *afpacket.TPacket
	link layers.LinkType
	name string
}

// OpenLive captures on iface ("" or "any": every interface, cooked to raw
// IP). It needs CAP_NET_RAW. On systems other than Linux it returns
// ErrNotSupported.
func OpenLive(iface string, opt LiveOptions) (Source, error) {
	opt = opt.withDefaults()
	name, sock, link, linkHeader := iface, afpacket.SocketRaw, layers.LinkTypeEthernet, uint32(14)
	if iface == "" || iface == "any" {
		name, sock, link, linkHeader = "", afpacket.SocketDgram, layers.LinkTypeRaw, 0
	} else if t, err := hardwareType(iface); err != nil {
		return nil, fmt.Errorf("capture: open live %q: %w", iface, err)
	} else if t != arphrdEther && t != arphrdLoopback {
		// Tunnels and other links without an Ethernet header: take the
		// packets cooked, starting at the IP header.
		sock, link, linkHeader = afpacket.SocketDgram, layers.LinkTypeRaw, 0
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(name),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptSocketType(sock),
		afpacket.OptBlockTimeout(opt.BlockTimeout),
		afpacket.OptPollTimeout(opt.PollTimeout),
		afpacket.OptBlockSize(opt.BlockSize),
		afpacket.OptFrameSize(4096),
		afpacket.OptNumBlocks(opt.NumBlocks),
	)
	if err != nil {
		return nil, fmt.Errorf("capture: open live %q: %w", iface, err)
	}
	s := &LiveSource{tp: tp, link: link, name: iface}
	if opt.Promisc && name != "" {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("capture: open live %q: promiscuous mode: %w", iface, err)
		}
	}
	prog, err := buildBPF(bpfOptions{
		linkHeader: linkHeader,
		snapLen:    uint32(opt.SnapLen),
		dropOutIf:  loopbackIndex(),
		filter:     opt.Filter,
		withFilter: true,
	})
	if err == nil {
		var raw []bpf.RawInstruction
		if raw, err = bpf.Assemble(prog); err == nil {
			err = tp.SetBPF(raw)
		}
	}
	if err != nil {
		tp.Close()
		return nil, fmt.Errorf("capture: open live %q: kernel filter: %w", iface, err)
	}
	return s, nil
}

// hardwareType reads the ARPHRD type of an interface.
func hardwareType(iface string) (int, error) {
	if strings.ContainsAny(iface, "/") || iface == "." || iface == ".." {
		return 0, fmt.Errorf("bad interface name")
	}
	b, err := os.ReadFile("/sys/class/net/" + iface + "/type")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// loopbackIndex is the index of the loopback interface, whose packets
// AF_PACKET sees twice (sent and received); 0 if none.
func loopbackIndex() int {
	ifs, err := net.Interfaces()
	if err != nil {
		return 0
	}
	for _, in := range ifs {
		if in.Flags&net.FlagLoopback != 0 {
			return in.Index
		}
	}
	return 0
}

// ReadPacket returns the next packet (valid until the next call), or
// ErrTimeout when none arrived within the poll timeout.
func (s *LiveSource) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := s.tp.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, afpacket.ErrTimeout) {
			return nil, ci, ErrTimeout
		}
		return nil, ci, fmt.Errorf("capture: live read %q: %w", s.name, err)
	}
	return data, ci, nil
}

// LinkType is Ethernet, or raw IP for cooked captures.
func (s *LiveSource) LinkType() layers.LinkType { return s.link }

// KernelStats returns the packets the kernel passed to the ring and those
// it dropped because the ring was full, since the capture started.
func (s *LiveSource) KernelStats() (packets, drops uint64, err error) {
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return 0, 0, fmt.Errorf("capture: live stats %q: %w", s.name, err)
	}
	return uint64(v3.Packets()), uint64(v3.Drops()), nil
}

// Close stops the capture.
func (s *LiveSource) Close() error {
	s.tp.Close()
	return nil
}
