package x2x3

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// Layout of a TS 103 221-2 PDU (all integers big-endian):
//
//	offset size field
//	 0      2   version (5 written; any accepted)
//	 2      2   PDU type: 1 X2, 2 X3, 3 keep-alive, 4 keep-alive acknowledgement
//	 4      4   header length: 40 + the conditional attributes
//	 8      4   payload length
//	12      2   payload format
//	14      2   payload direction
//	16     16   XID (the X1 task's UUID)
//	32      8   correlation ID
//	40      …   conditional attributes: type (2), length (2), value (length)
//	hdrlen  …   payload (payload length bytes)
const (
	// HeaderLen is the length of the fixed part of the header.
	HeaderLen = 40
	// Version is the version number this package writes.
	Version uint16 = 5
	// MaxPayload is the largest payload read or written: 16 MiB.
	MaxPayload = 16 << 20
	// MaxHeaderLen is the largest header (fixed part and attributes) read
	// or written: 1 MiB, room for thousands of target identifiers.
	MaxHeaderLen = 1 << 20
)

// Conditional attribute types (TS 103 221-2 clause 5.3.x, the table of
// conditional attribute fields). Types 8 to 20 are interpreted by Attributes;
// every other type is kept as a RawAttr.
const (
	AttrETSI102232    = 1  // ETSI TS 102 232-1 defined attribute
	Attr3GPP33128     = 2  // 3GPP TS 33.128 defined attribute
	Attr3GPP33108     = 3  // 3GPP TS 33.108 defined attribute
	AttrProprietary   = 4  // proprietary attribute
	AttrDomainID      = 5  // domain ID (DID)
	AttrNFID          = 6  // network function ID
	AttrIPID          = 7  // interception point ID
	AttrSeqNo         = 8  // sequence number: 4 bytes
	AttrTimestamp     = 9  // timestamp: 4 bytes seconds since 1970 + 4 bytes nanoseconds
	AttrSrcIPv4       = 10 // source IPv4 address: 4 bytes
	AttrDstIPv4       = 11 // destination IPv4 address: 4 bytes
	AttrSrcIPv6       = 12 // source IPv6 address: 16 bytes
	AttrDstIPv6       = 13 // destination IPv6 address: 16 bytes
	AttrSrcPort       = 14 // source port: 2 bytes
	AttrDstPort       = 15 // destination port: 2 bytes
	AttrIPProtocol    = 16 // IP protocol: 1 byte
	AttrMatchedTarget = 17 // matched target identifier: UTF-8 string
	AttrOtherTarget   = 18 // other target identifier: UTF-8 string, repeatable
	AttrMIMEType      = 19 // MIME content type: string
	AttrMIMEEncoding  = 20 // MIME content transfer encoding: string
	AttrAdditionalXID = 21 // additional XID related information
	AttrSDP           = 22 // SDP session description
)

func (t PDUType) String() string {
	switch t {
	case TypeX2:
		return "X2"
	case TypeX3:
		return "X3"
	case TypeKeepalive:
		return "keep-alive"
	case TypeKeepaliveAck:
		return "keep-alive-ack"
	}
	return "type-" + strconv.Itoa(int(t))
}

// NewKeepalive returns a keep-alive PDU carrying sequence number seq (the
// acknowledgement echoes it). XID and correlation ID are zero.
func NewKeepalive(seq uint32) *PDU {
	return &PDU{Version: Version, Type: TypeKeepalive, Attrs: Attributes{SeqNo: &seq}}
}

// NewKeepaliveAck returns the acknowledgement of keep-alive ka: same XID,
// correlation ID and sequence number attribute (absent if ka had none).
func NewKeepaliveAck(ka *PDU) *PDU {
	a := &PDU{Version: Version, Type: TypeKeepaliveAck, XID: ka.XID, CorrelationID: ka.CorrelationID}
	if ka.Attrs.SeqNo != nil {
		s := *ka.Attrs.SeqNo
		a.Attrs.SeqNo = &s
	}
	return a
}

// MarshalBinary encodes p; see AppendBinary.
func (p *PDU) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }

// AppendBinary appends the wire form of p to dst (growing it at most once)
// and returns the extended slice; on error dst is returned unchanged. The
// version written is always 5, whatever p.Version says. Attributes are
// written in the order of their type numbers (8, 9, 10/12, 11/13, 14, 15,
// 16, 17, each of 18, 19, 20), then Attrs.Unknown as given; zero values are
// not written. An IPv4-mapped IPv6 address is written as IPv4.
func (p *PDU) AppendBinary(dst []byte) ([]byte, error) {
	hl, err := p.headerLen()
	if err != nil {
		return dst, fmt.Errorf("x2x3: marshal %s: %w", p.Type, err)
	}
	orig := len(dst)
	dst = slices.Grow(dst, hl+len(p.Payload))
	dst = binary.BigEndian.AppendUint16(dst, Version)
	dst = binary.BigEndian.AppendUint16(dst, uint16(p.Type))
	dst = binary.BigEndian.AppendUint32(dst, uint32(hl))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(p.Payload)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(p.Format))
	dst = binary.BigEndian.AppendUint16(dst, uint16(p.Direction))
	dst = append(dst, p.XID[:]...)
	dst = binary.BigEndian.AppendUint64(dst, p.CorrelationID)
	dst = p.Attrs.appendTo(dst)
	dst = append(dst, p.Payload...)
	if len(dst)-orig != hl+len(p.Payload) { // cannot happen: headerLen and appendTo agree
		return dst[:orig], fmt.Errorf("x2x3: marshal %s: internal length mismatch", p.Type)
	}
	return dst, nil
}

// EncodedLen is the length of p's wire form (0 if p cannot be encoded).
func (p *PDU) EncodedLen() int {
	hl, err := p.headerLen()
	if err != nil {
		return 0
	}
	return hl + len(p.Payload)
}

// headerLen validates p for encoding and returns its header length.
func (p *PDU) headerLen() (int, error) {
	switch p.Type {
	case TypeX2, TypeX3:
	case TypeKeepalive, TypeKeepaliveAck:
		if len(p.Payload) != 0 {
			return 0, fmt.Errorf("%w: %d bytes", ErrKeepalivePayload, len(p.Payload))
		}
	default:
		return 0, fmt.Errorf("%w: %d", ErrPDUType, p.Type)
	}
	if len(p.Payload) > MaxPayload {
		return 0, fmt.Errorf("%w: %d > %d bytes", ErrPayloadTooLarge, len(p.Payload), MaxPayload)
	}
	n, err := p.Attrs.encodedLen()
	if err != nil {
		return 0, err
	}
	if HeaderLen+n > MaxHeaderLen {
		return 0, fmt.Errorf("%w: %d > %d bytes", ErrHeaderLength, HeaderLen+n, MaxHeaderLen)
	}
	return HeaderLen + n, nil
}

func strAttrLen(typ int, s string) (int, error) {
	if len(s) > math.MaxUint16 {
		return 0, fmt.Errorf("%w: type %d, %d bytes", ErrAttrTooLong, typ, len(s))
	}
	return 4 + len(s), nil
}

// encodedLen validates the attributes and returns their encoded length.
func (a *Attributes) encodedLen() (int, error) {
	n := 0
	if a.SeqNo != nil {
		n += 4 + 4
	}
	if !a.Timestamp.IsZero() {
		if s := a.Timestamp.Unix(); s < 0 || s > math.MaxUint32 {
			return 0, fmt.Errorf("%w: %s", ErrTimestamp, a.Timestamp.UTC().Format(time.RFC3339))
		}
		n += 4 + 8
	}
	for _, ap := range [2]netip.AddrPort{a.Src, a.Dst} {
		if ip := ap.Addr(); ip.IsValid() {
			if ip.Unmap().Is4() {
				n += 4 + 4
			} else {
				n += 4 + 16
			}
		}
		if ap.Port() != 0 {
			n += 4 + 2
		}
	}
	if a.IPProtocol != 0 {
		n += 4 + 1
	}
	strs := [...]struct {
		typ int
		s   string
	}{{AttrMatchedTarget, a.MatchedTarget}, {AttrMIMEType, a.MIMEType}, {AttrMIMEEncoding, a.MIMEEncoding}}
	for _, s := range strs {
		if s.s != "" {
			m, err := strAttrLen(s.typ, s.s)
			if err != nil {
				return 0, err
			}
			n += m
		}
	}
	for _, s := range a.OtherTarget {
		m, err := strAttrLen(AttrOtherTarget, s)
		if err != nil {
			return 0, err
		}
		n += m
	}
	for _, r := range a.Unknown {
		if len(r.Value) > math.MaxUint16 {
			return 0, fmt.Errorf("%w: type %d, %d bytes", ErrAttrTooLong, r.Type, len(r.Value))
		}
		n += 4 + len(r.Value)
	}
	return n, nil
}

func appendTLV(dst []byte, typ uint16, n int) []byte {
	dst = binary.BigEndian.AppendUint16(dst, typ)
	return binary.BigEndian.AppendUint16(dst, uint16(n))
}

func appendAddr(dst []byte, ip netip.Addr, t4, t6 uint16) []byte {
	if !ip.IsValid() {
		return dst
	}
	if u := ip.Unmap(); u.Is4() {
		b := u.As4()
		return append(appendTLV(dst, t4, 4), b[:]...)
	}
	b := ip.As16()
	return append(appendTLV(dst, t6, 16), b[:]...)
}

// appendTo writes the attributes; encodedLen must have succeeded.
func (a *Attributes) appendTo(dst []byte) []byte {
	if a.SeqNo != nil {
		dst = binary.BigEndian.AppendUint32(appendTLV(dst, AttrSeqNo, 4), *a.SeqNo)
	}
	if !a.Timestamp.IsZero() {
		dst = appendTLV(dst, AttrTimestamp, 8)
		dst = binary.BigEndian.AppendUint32(dst, uint32(a.Timestamp.Unix()))
		dst = binary.BigEndian.AppendUint32(dst, uint32(a.Timestamp.Nanosecond()))
	}
	// 10 and 12 are the source address, 11 and 13 the destination; a PDU
	// holds one of each pair, so this is ascending type order.
	dst = appendAddr(dst, a.Src.Addr(), AttrSrcIPv4, AttrSrcIPv6)
	dst = appendAddr(dst, a.Dst.Addr(), AttrDstIPv4, AttrDstIPv6)
	if p := a.Src.Port(); p != 0 {
		dst = binary.BigEndian.AppendUint16(appendTLV(dst, AttrSrcPort, 2), p)
	}
	if p := a.Dst.Port(); p != 0 {
		dst = binary.BigEndian.AppendUint16(appendTLV(dst, AttrDstPort, 2), p)
	}
	if a.IPProtocol != 0 {
		dst = append(appendTLV(dst, AttrIPProtocol, 1), a.IPProtocol)
	}
	if a.MatchedTarget != "" {
		dst = append(appendTLV(dst, AttrMatchedTarget, len(a.MatchedTarget)), a.MatchedTarget...)
	}
	for _, s := range a.OtherTarget {
		dst = append(appendTLV(dst, AttrOtherTarget, len(s)), s...)
	}
	if a.MIMEType != "" {
		dst = append(appendTLV(dst, AttrMIMEType, len(a.MIMEType)), a.MIMEType...)
	}
	if a.MIMEEncoding != "" {
		dst = append(appendTLV(dst, AttrMIMEEncoding, len(a.MIMEEncoding)), a.MIMEEncoding...)
	}
	for _, r := range a.Unknown {
		dst = append(appendTLV(dst, r.Type, len(r.Value)), r.Value...)
	}
	return dst
}

// Unmarshal decodes b, which must hold exactly one PDU. The result shares
// no memory with b.
func Unmarshal(b []byte) (*PDU, error) {
	p := new(PDU)
	if err := p.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return p, nil
}

// UnmarshalBinary decodes b, which must hold exactly one PDU, into p,
// replacing all of p. It keeps no reference to b.
//
// Any version number is accepted and kept in p.Version. Attributes of an
// interpreted type (8 to 20) whose length is not the type's size (4 for the
// sequence number, 8 for the timestamp, …), whose value Attributes would
// not write back (an empty string, port or protocol 0, a timestamp with 10^9
// or more nanoseconds), and a second occurrence of a single-valued attribute
// are not interpreted but kept in Attrs.Unknown, like attributes of other
// types, so nothing read is lost.
func (p *PDU) UnmarshalBinary(b []byte) error {
	hl, pl, err := checkFixed(b, MaxPayload)
	if err != nil {
		return fmt.Errorf("x2x3: unmarshal: %w", err)
	}
	switch {
	case hl > len(b):
		return fmt.Errorf("x2x3: unmarshal: %w: %d > PDU of %d bytes", ErrHeaderLength, hl, len(b))
	case hl+pl > len(b):
		return fmt.Errorf("x2x3: unmarshal: %w: %d of %d bytes", ErrTruncated, len(b), hl+pl)
	case hl+pl < len(b):
		return fmt.Errorf("x2x3: unmarshal: %w: %d bytes", ErrTrailingData, len(b)-hl-pl)
	}
	if err := p.decode(b, hl, true); err != nil {
		return fmt.Errorf("x2x3: unmarshal: %w", err)
	}
	return nil
}

// checkFixed validates the fixed header at the start of b and returns the
// header and payload lengths.
func checkFixed(b []byte, maxPayload int) (hl, pl int, err error) {
	if len(b) < HeaderLen {
		return 0, 0, fmt.Errorf("%w: %d of %d bytes", ErrShortHeader, len(b), HeaderLen)
	}
	typ := PDUType(binary.BigEndian.Uint16(b[2:]))
	h := binary.BigEndian.Uint32(b[4:])
	l := binary.BigEndian.Uint32(b[8:])
	switch {
	case typ < TypeX2 || typ > TypeKeepaliveAck:
		return 0, 0, fmt.Errorf("%w: %d", ErrPDUType, typ)
	case h < HeaderLen:
		return 0, 0, fmt.Errorf("%w: %d < %d", ErrHeaderLength, h, HeaderLen)
	case h > MaxHeaderLen:
		return 0, 0, fmt.Errorf("%w: %d > limit %d", ErrHeaderLength, h, MaxHeaderLen)
	case uint64(l) > uint64(maxPayload):
		return 0, 0, fmt.Errorf("%w: %d > limit %d", ErrPayloadTooLarge, l, maxPayload)
	case (typ == TypeKeepalive || typ == TypeKeepaliveAck) && l != 0:
		return 0, 0, fmt.Errorf("%w: %s, %d bytes", ErrKeepalivePayload, typ, l)
	}
	return int(h), int(l), nil
}

// decode fills p from b, which holds exactly one PDU whose fixed header
// checkFixed accepted, with header length hl. With clone unset, p.Payload
// and raw attribute values alias b.
func (p *PDU) decode(b []byte, hl int, clone bool) error {
	*p = PDU{
		Version:       binary.BigEndian.Uint16(b[0:]),
		Type:          PDUType(binary.BigEndian.Uint16(b[2:])),
		Format:        PayloadFormat(binary.BigEndian.Uint16(b[12:])),
		Direction:     Direction(binary.BigEndian.Uint16(b[14:])),
		CorrelationID: binary.BigEndian.Uint64(b[32:]),
	}
	copy(p.XID[:], b[16:32])
	var seen uint32 // bit t set: single-valued attribute t already interpreted
	for off := HeaderLen; off < hl; {
		if hl-off < 4 {
			return fmt.Errorf("%w: %d bytes left at header offset %d, need 4 for type and length", ErrAttrOverrun, hl-off, off)
		}
		typ := binary.BigEndian.Uint16(b[off:])
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if n > hl-off-4 {
			return fmt.Errorf("%w: type %d length %d at header offset %d, header length %d", ErrAttrOverrun, typ, n, off, hl)
		}
		v := b[off+4 : off+4+n]
		if !p.Attrs.set(typ, v, &seen) {
			if clone {
				v = slices.Clone(v)
			}
			p.Attrs.Unknown = append(p.Attrs.Unknown, RawAttr{Type: typ, Value: v})
		}
		off += 4 + n
	}
	if pl := b[hl:]; len(pl) > 0 {
		if clone {
			pl = slices.Clone(pl)
		}
		p.Payload = pl
	}
	return nil
}

// fixedSize is the value size of the fixed-size interpreted attributes.
var fixedSize = [...]int{AttrSeqNo: 4, AttrTimestamp: 8, AttrSrcIPv4: 4, AttrDstIPv4: 4,
	AttrSrcIPv6: 16, AttrDstIPv6: 16, AttrSrcPort: 2, AttrDstPort: 2, AttrIPProtocol: 1}

// set interprets attribute typ with value v; it returns false when the
// attribute is to be kept raw (unknown type, wrong size, repeated, or a
// value Attributes would not write back: empty string, port or protocol 0,
// nanoseconds out of range).
func (a *Attributes) set(typ uint16, v []byte, seen *uint32) bool {
	if typ < AttrSeqNo || typ > AttrMIMEEncoding {
		return false
	}
	if typ < uint16(len(fixedSize)) && fixedSize[typ] != 0 && len(v) != fixedSize[typ] {
		return false
	}
	// The address pairs (10/12, 11/13) fill one field each.
	bit := uint32(1) << typ
	switch typ {
	case AttrSrcIPv6:
		bit = 1 << AttrSrcIPv4
	case AttrDstIPv6:
		bit = 1 << AttrDstIPv4
	case AttrOtherTarget:
		bit = 0 // repeatable
	}
	if *seen&bit != 0 {
		return false
	}
	if (typ == AttrSrcPort || typ == AttrDstPort || typ == AttrIPProtocol) && allZero(v) {
		return false // zero is "absent" in Attributes
	}
	switch typ {
	case AttrSeqNo:
		s := binary.BigEndian.Uint32(v)
		a.SeqNo = &s
	case AttrTimestamp:
		ns := binary.BigEndian.Uint32(v[4:])
		if ns >= 1e9 {
			return false
		}
		a.Timestamp = time.Unix(int64(binary.BigEndian.Uint32(v)), int64(ns)).UTC()
	case AttrSrcIPv4, AttrSrcIPv6:
		a.Src = netip.AddrPortFrom(addrOf(v), a.Src.Port())
	case AttrDstIPv4, AttrDstIPv6:
		a.Dst = netip.AddrPortFrom(addrOf(v), a.Dst.Port())
	case AttrSrcPort:
		a.Src = netip.AddrPortFrom(a.Src.Addr(), binary.BigEndian.Uint16(v))
	case AttrDstPort:
		a.Dst = netip.AddrPortFrom(a.Dst.Addr(), binary.BigEndian.Uint16(v))
	case AttrIPProtocol:
		a.IPProtocol = v[0]
	case AttrOtherTarget:
		a.OtherTarget = append(a.OtherTarget, string(v))
	case AttrMatchedTarget, AttrMIMEType, AttrMIMEEncoding:
		if len(v) == 0 { // an empty string is "absent" in Attributes
			return false
		}
		switch typ {
		case AttrMatchedTarget:
			a.MatchedTarget = string(v)
		case AttrMIMEType:
			a.MIMEType = string(v)
		default:
			a.MIMEEncoding = string(v)
		}
	}
	*seen |= bit
	return true
}

func allZero(v []byte) bool {
	for _, c := range v {
		if c != 0 {
			return false
		}
	}
	return true
}

func addrOf(v []byte) netip.Addr {
	ip, _ := netip.AddrFromSlice(v) // 4 or 16 bytes, checked by the caller
	return ip
}
