package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// Link types that have no constant in gopacket/layers: DLT_RAW as most
// systems number it (12) and as OpenBSD does (14).
const (
	linkTypeRawAlt12 layers.LinkType = 12
	linkTypeRawAlt14 layers.LinkType = 14
)

// verdict is the outcome of decoding one packet's headers.
type verdict uint8

const (
	vOK          verdict = iota
	vUnknownLink         // link type not supported
	vNonIP               // a link frame that carries neither IPv4 nor IPv6
	vNonTCP              // IP, but not TCP (or no upper layer at all)
	vTruncated           // headers cut short by the snap length
	vMalformed           // headers that cannot be valid
)

// ipPacket is the decoded network layer of one packet. Its slices point
// into the packet.
type ipPacket struct {
	v6       bool
	src, dst []byte // 4 or 16 bytes
	proto    uint8  // upper-layer protocol (IPv6: after the extension headers)
	payload  []byte // upper-layer bytes present, cut at the IP length
	missing  int    // upper-layer bytes the IP length declares but the capture lacks

	frag     bool   // a fragment of a larger datagram
	fragOff  int    // offset of payload in the datagram, in bytes
	fragMore bool   // more fragments follow
	fragID   uint32 // identification
}

// Ethernet types.
const (
	etherIPv4    = 0x0800
	etherIPv6    = 0x86dd
	etherVLAN    = 0x8100
	etherQinQ    = 0x88a8
	etherQinQOld = 0x9100
	etherQinQ2   = 0x9200
)

// maxVLANTags bounds the VLAN tags skipped in one frame.
const maxVLANTags = 8

// decodeLink strips the link layer and returns the network-layer bytes and
// the IP version they hold (4 or 6).
func decodeLink(link layers.LinkType, data []byte) (l3 []byte, version int, v verdict) {
	switch link {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return nil, 0, vTruncated
		}
		return etherPayload(binary.BigEndian.Uint16(data[12:14]), data[14:])
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return nil, 0, vTruncated
		}
		return etherPayload(binary.BigEndian.Uint16(data[14:16]), data[16:])
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return nil, 0, vTruncated
		}
		return etherPayload(binary.BigEndian.Uint16(data[0:2]), data[20:])
	case layers.LinkTypeRaw, linkTypeRawAlt12, linkTypeRawAlt14, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		if len(data) < 1 {
			return nil, 0, vTruncated
		}
		switch data[0] >> 4 {
		case 4:
			return data, 4, vOK
		case 6:
			return data, 6, vOK
		}
		return nil, 0, vNonIP // cooked captures of every interface also carry ARP and the like
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return nil, 0, vTruncated
		}
		fam := binary.LittleEndian.Uint32(data[:4])
		if fam > 0xffff {
			fam = binary.BigEndian.Uint32(data[:4])
		}
		switch fam {
		case 2: // AF_INET everywhere
			return data[4:], 4, vOK
		case 10, 23, 24, 28, 30: // AF_INET6: Linux, Windows, NetBSD/OpenBSD, FreeBSD, Darwin
			return data[4:], 6, vOK
		}
		return nil, 0, vNonIP
	}
	return nil, 0, vUnknownLink
}

// etherPayload skips VLAN tags and maps an Ethernet type to an IP version.
func etherPayload(etype uint16, b []byte) ([]byte, int, verdict) {
	for i := 0; i < maxVLANTags && (etype == etherVLAN || etype == etherQinQ || etype == etherQinQOld || etype == etherQinQ2); i++ {
		if len(b) < 4 {
			return nil, 0, vTruncated
		}
		etype = binary.BigEndian.Uint16(b[2:4])
		b = b[4:]
	}
	switch etype {
	case etherIPv4:
		return b, 4, vOK
	case etherIPv6:
		return b, 6, vOK
	}
	return nil, 0, vNonIP
}

// decodeIPv4 decodes an IPv4 header. The payload is cut at the total
// length, so link-layer trailers are not taken for data.
func decodeIPv4(b []byte, p *ipPacket) verdict {
	if len(b) < 20 {
		return vTruncated
	}
	if b[0]>>4 != 4 {
		return vMalformed
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 {
		return vMalformed
	}
	if len(b) < ihl {
		return vTruncated
	}
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if total == 0 {
		// Segmentation offload on the capturing host leaves the length 0.
		total = len(b)
	}
	if total < ihl {
		return vMalformed
	}
	*p = ipPacket{src: b[12:16], dst: b[16:20], proto: b[9]}
	end := total
	if end > len(b) {
		p.missing = end - len(b)
		end = len(b)
	}
	p.payload = b[ihl:end]
	frag := binary.BigEndian.Uint16(b[6:8])
	p.fragMore = frag&0x2000 != 0
	p.fragOff = int(frag&0x1fff) * 8
	if p.fragMore || p.fragOff != 0 {
		p.frag = true
		p.fragID = uint32(binary.BigEndian.Uint16(b[4:6]))
	}
	return vOK
}

// maxExtHeaders bounds the IPv6 extension headers walked in one packet.
const maxExtHeaders = 16

// decodeIPv6 decodes an IPv6 header and skips extension headers up to the
// upper layer or a fragment header.
func decodeIPv6(b []byte, p *ipPacket) verdict {
	if len(b) < 40 {
		return vTruncated
	}
	if b[0]>>4 != 6 {
		return vMalformed
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	total := 40 + plen
	if plen == 0 {
		// A jumbogram, or segmentation offload: take what is there.
		total = len(b)
	}
	*p = ipPacket{v6: true, src: b[8:24], dst: b[24:40]}
	end := total
	if end > len(b) {
		p.missing = end - len(b)
		end = len(b)
	}
	rest, next, v := skipExtHeaders(b[6], b[40:end], p)
	if v != vOK {
		return v
	}
	p.proto, p.payload = next, rest
	return vOK
}

// skipExtHeaders walks IPv6 extension headers starting with next. It stops
// at the upper layer, or after a fragment header of a real fragment (whose
// data is then the payload and p.proto its next header).
func skipExtHeaders(next uint8, b []byte, p *ipPacket) ([]byte, uint8, verdict) {
	for range maxExtHeaders {
		switch next {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination, mobility, HIP, shim6
			if len(b) < 2 {
				return nil, 0, vTruncated
			}
			n := (int(b[1]) + 1) * 8
			if len(b) < n {
				return nil, 0, vTruncated
			}
			next, b = b[0], b[n:]
		case 51: // authentication header
			if len(b) < 2 {
				return nil, 0, vTruncated
			}
			n := (int(b[1]) + 2) * 4
			if len(b) < n {
				return nil, 0, vTruncated
			}
			next, b = b[0], b[n:]
		case 44: // fragment
			if len(b) < 8 {
				return nil, 0, vTruncated
			}
			off := int(binary.BigEndian.Uint16(b[2:4]) &^ 7)
			more := b[3]&1 != 0
			next = b[0]
			id := binary.BigEndian.Uint32(b[4:8])
			b = b[8:]
			if off == 0 && !more {
				continue // an atomic fragment is a whole packet
			}
			p.frag, p.fragOff, p.fragMore, p.fragID = true, off, more, id
			return b, next, vOK
		case 59: // no next header
			return nil, 0, vNonTCP
		default:
			return b, next, vOK
		}
	}
	return nil, 0, vMalformed
}

// isIPv6ExtHeader reports whether proto names an IPv6 extension header that
// may stand between a fragment header and TCP.
func isIPv6ExtHeader(proto uint8) bool {
	switch proto {
	case 0, 43, 44, 51, 60, 135, 139, 140:
		return true
	}
	return false
}
