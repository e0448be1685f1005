package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// BareLoop is the throughput baseline of the benchmarks: it only reads the
// capture at path with pcapgo (pcap or pcapng) and decodes each packet's
// layers with a gopacket DecodingLayerParser (link, VLAN, IPv4/IPv6,
// TCP/UDP), nothing else. It returns the number of packets read.
func BareLoop(path string) (packets int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("capture: bare loop: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, readBufSize)
	magic, err := peekMagic(br)
	if err != nil {
		return 0, fmt.Errorf("capture: bare loop: %w", err)
	}
	type reader interface {
		ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r reader
	var link layers.LinkType
	switch magic {
	case magicPcapNG:
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{})
		if err != nil {
			return 0, fmt.Errorf("capture: bare loop: %w", err)
		}
		r, link = ng, ng.LinkType()
	default:
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return 0, fmt.Errorf("capture: bare loop: %w", err)
		}
		r, link = pr, pr.LinkType()
	}

	var (
		eth   layers.Ethernet
		dot1q layers.Dot1Q
		sll   layers.LinuxSLL
		ip4   layers.IPv4
		ip6   layers.IPv6
		tcp   layers.TCP
		udp   layers.UDP
		pl    gopacket.Payload
	)
	first := gopacket.LayerType(layers.LayerTypeEthernet)
	switch link {
	case layers.LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case layers.LinkTypeRaw, linkTypeRawAlt12, linkTypeRawAlt14, layers.LinkTypeIPv4:
		first = layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		first = layers.LayerTypeIPv6
	}
	parser := gopacket.NewDecodingLayerParser(first, &eth, &dot1q, &sll, &ip4, &ip6, &tcp, &udp, &pl)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return packets, nil
			}
			return packets, fmt.Errorf("capture: bare loop: %w", err)
		}
		packets++
		_ = parser.DecodeLayers(data, &decoded)
	}
}
