package ber

import "fmt"

// Class is the tag class of an identifier octet (X.690 8.1.2.2).
type Class uint8

const (
	ClassUniversal   Class = 0
	ClassApplication Class = 1
	ClassContext     Class = 2
	ClassPrivate     Class = 3
)

func (c Class) String() string {
	switch c {
	case ClassUniversal:
		return "UNIVERSAL"
	case ClassApplication:
		return "APPLICATION"
	case ClassContext:
		return "CONTEXT"
	case ClassPrivate:
		return "PRIVATE"
	}
	return fmt.Sprintf("Class(%d)", uint8(c))
}

// Universal tag numbers (X.680 8.6) used by the ETSI modules.
const (
	TagEOC             uint32 = 0
	TagBoolean         uint32 = 1
	TagInteger         uint32 = 2
	TagBitString       uint32 = 3
	TagOctetString     uint32 = 4
	TagNull            uint32 = 5
	TagOID             uint32 = 6
	TagReal            uint32 = 9
	TagEnumerated      uint32 = 10
	TagUTF8String      uint32 = 12
	TagRelativeOID     uint32 = 13
	TagSequence        uint32 = 16
	TagSet             uint32 = 17
	TagNumericString   uint32 = 18
	TagPrintableString uint32 = 19
	TagIA5String       uint32 = 22
	TagUTCTime         uint32 = 23
	TagGeneralizedTime uint32 = 24
	TagVisibleString   uint32 = 26
)

// MaxTag is the largest tag number this package reads or writes.
const MaxTag = 1<<31 - 1

// appendIdentifier appends the identifier octets for (class, constructed, tag).
func appendIdentifier(buf []byte, c Class, constructed bool, tag uint32) []byte {
	b0 := byte(c&3) << 6
	if constructed {
		b0 |= 0x20
	}
	if tag < 31 {
		return append(buf, b0|byte(tag))
	}
	buf = append(buf, b0|0x1f)
	// base-128, most significant group first, no leading 0x80.
	var n int
	for t := tag; t > 0; t >>= 7 {
		n++
	}
	for i := n - 1; i >= 0; i-- {
		v := byte(tag>>(7*uint(i))) & 0x7f
		if i > 0 {
			v |= 0x80
		}
		buf = append(buf, v)
	}
	return buf
}

// identifierLen returns the number of identifier octets for tag.
func identifierLen(tag uint32) int {
	if tag < 31 {
		return 1
	}
	n := 1
	for t := tag; t > 0; t >>= 7 {
		n++
	}
	return n
}

// appendLength appends definite length octets (short form when it fits,
// else the minimal long form).
func appendLength(buf []byte, n int) []byte {
	if n < 0x80 {
		return append(buf, byte(n))
	}
	k := lengthOctets(n)
	buf = append(buf, 0x80|byte(k))
	for i := k - 1; i >= 0; i-- {
		buf = append(buf, byte(n>>(8*uint(i))))
	}
	return buf
}

// lengthOctets is the number of octets after the initial one of a long-form
// length for n >= 128.
func lengthOctets(n int) int {
	k := 0
	for v := n; v > 0; v >>= 8 {
		k++
	}
	return k
}

// HeaderLen returns the size of a definite-length header for an element with
// tag number tag and contentLen content octets.
func HeaderLen(tag uint32, contentLen int) int {
	n := identifierLen(tag) + 1
	if contentLen >= 0x80 {
		n += lengthOctets(contentLen)
	}
	return n
}

// AppendHeader appends a definite-length identifier and length. The caller
// appends exactly contentLen content octets after it.
func AppendHeader(dst []byte, c Class, constructed bool, tag uint32, contentLen int) []byte {
	dst = appendIdentifier(dst, c, constructed, tag)
	return appendLength(dst, contentLen)
}
