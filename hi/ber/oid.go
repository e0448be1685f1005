package ber

import (
	"fmt"
	"strconv"
	"strings"
)

// OID is an OBJECT IDENTIFIER or RELATIVE-OID as its arcs. Arcs beyond 64
// bits are rejected when reading.
type OID []uint64

// ParseOID parses a dotted string such as "0.4.0.2.2.5.1.33".
func ParseOID(s string) (OID, error) {
	if s == "" {
		return nil, fmt.Errorf("ber: parse OID %q: empty: %w", s, ErrMalformed)
	}
	parts := strings.Split(s, ".")
	o := make(OID, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("ber: parse OID %q: %w", s, ErrMalformed)
		}
		o[i] = v
	}
	return o, nil
}

// MustOID is ParseOID for constants; it panics on a bad string.
func MustOID(s string) OID {
	o, err := ParseOID(s)
	if err != nil {
		panic(err)
	}
	return o
}

// String returns the dotted form.
func (o OID) String() string {
	var sb strings.Builder
	for i, a := range o {
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(strconv.FormatUint(a, 10))
	}
	return sb.String()
}

// Equal reports whether o and p have the same arcs.
func (o OID) Equal(p OID) bool {
	if len(o) != len(p) {
		return false
	}
	for i := range o {
		if o[i] != p[i] {
			return false
		}
	}
	return true
}

// HasPrefix reports whether o starts with the arcs of p.
func (o OID) HasPrefix(p OID) bool {
	return len(o) >= len(p) && o[:len(p)].Equal(p)
}

func (o OID) check() error {
	if len(o) < 2 {
		return fmt.Errorf("OID %s: fewer than two arcs: %w", o, ErrBuilder)
	}
	if o[0] > 2 || (o[0] < 2 && o[1] >= 40) {
		return fmt.Errorf("OID %s: invalid first arcs: %w", o, ErrBuilder)
	}
	if o[0] == 2 && o[1] > ^uint64(0)-80 {
		return fmt.Errorf("OID %s: second arc too large: %w", o, ErrBuilder)
	}
	return nil
}

func (o OID) contentLen() int {
	n := subidLen(o[0]*40 + o[1])
	for _, a := range o[2:] {
		n += subidLen(a)
	}
	return n
}

func (o OID) appendContent(dst []byte) []byte {
	dst = appendSubid(dst, o[0]*40+o[1])
	for _, a := range o[2:] {
		dst = appendSubid(dst, a)
	}
	return dst
}

// AppendOIDContent appends the contents octets of an OBJECT IDENTIFIER
// (no header); it returns an error for an invalid OID.
func AppendOIDContent(dst []byte, o OID) ([]byte, error) {
	if err := o.check(); err != nil {
		return dst, err
	}
	return o.appendContent(dst), nil
}

func subidLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		n++
		v >>= 7
	}
	return n
}

func appendSubid(dst []byte, v uint64) []byte {
	n := subidLen(v)
	for i := n - 1; i >= 0; i-- {
		c := byte(v>>(7*uint(i))) & 0x7f
		if i > 0 {
			c |= 0x80
		}
		dst = append(dst, c)
	}
	return dst
}

// parseSubids decodes a sequence of base-128 sub-identifiers.
func parseSubids(content []byte, dst OID) (OID, error) {
	if len(content) == 0 {
		return nil, fmt.Errorf("ber: empty object identifier: %w", ErrMalformed)
	}
	var v uint64
	start := true
	for _, c := range content {
		if start && c == 0x80 {
			return nil, fmt.Errorf("ber: object identifier sub-identifier with leading 0x80: %w", ErrMalformed)
		}
		if v > (^uint64(0))>>7 {
			return nil, fmt.Errorf("ber: object identifier arc exceeds 64 bits: %w", ErrTooLarge)
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 == 0 {
			dst = append(dst, v)
			v = 0
			start = true
		} else {
			start = false
		}
	}
	if !start {
		return nil, fmt.Errorf("ber: object identifier ends inside a sub-identifier: %w", ErrMalformed)
	}
	return dst, nil
}
