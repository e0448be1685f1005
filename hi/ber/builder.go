package ber

import (
	"fmt"
	"time"
)

// MaxBuilderDepth is how many constructed elements a Builder can have open
// at once.
const MaxBuilderDepth = 32

// Builder appends BER (definite-length, DER-style minimal) encodings to a
// byte slice. Constructed elements are opened with Begin and closed with
// End: Begin reserves one length octet, End patches it, moving the contents
// forward when the length needs the long form. The zero value is ready to
// use and appends to a nil slice; Reset reuses a caller's buffer.
//
// Errors are sticky: the first misuse or invalid value is recorded, later
// calls are no-ops, and Bytes/Err report it. A Builder on the stack with a
// reused buffer does not allocate.
type Builder struct {
	buf   []byte
	stack [MaxBuilderDepth]int // content start of each open element
	depth int
	err   error
}

// NewBuilder returns a Builder that appends to dst.
func NewBuilder(dst []byte) *Builder {
	return &Builder{buf: dst}
}

// Reset discards the state and makes the Builder append to dst.
func (b *Builder) Reset(dst []byte) {
	b.buf = dst
	b.depth = 0
	b.err = nil
}

// Err returns the first error recorded, or an error if elements are still open.
func (b *Builder) Err() error {
	if b.err != nil {
		return b.err
	}
	if b.depth != 0 {
		return fmt.Errorf("ber: build: %d constructed elements not ended: %w", b.depth, ErrBuilder)
	}
	return nil
}

// Fail records err (the first one wins). Encoders of higher-level types use
// it to report constraint violations through the same channel.
func (b *Builder) Fail(err error) {
	if b.err == nil && err != nil {
		b.err = err
	}
}

// Bytes returns the encoding built so far and Err().
func (b *Builder) Bytes() ([]byte, error) {
	if err := b.Err(); err != nil {
		return b.buf, err
	}
	return b.buf, nil
}

// Len returns the number of bytes in the buffer.
func (b *Builder) Len() int { return len(b.buf) }

// Depth returns the number of open constructed elements.
func (b *Builder) Depth() int { return b.depth }

// Begin opens a constructed element with the given class and tag number.
func (b *Builder) Begin(c Class, tag uint32) {
	if b.err != nil {
		return
	}
	if b.depth == MaxBuilderDepth {
		b.err = fmt.Errorf("ber: build: more than %d nested elements: %w", MaxBuilderDepth, ErrBuilder)
		return
	}
	if tag > MaxTag {
		b.err = fmt.Errorf("ber: build: tag %d too large: %w", tag, ErrBuilder)
		return
	}
	b.buf = appendIdentifier(b.buf, c, true, tag)
	b.buf = append(b.buf, 0) // length placeholder
	b.stack[b.depth] = len(b.buf)
	b.depth++
}

// BeginSequence opens a UNIVERSAL 16 SEQUENCE (or SEQUENCE OF).
func (b *Builder) BeginSequence() { b.Begin(ClassUniversal, TagSequence) }

// End closes the innermost open constructed element.
func (b *Builder) End() {
	if b.err != nil {
		return
	}
	if b.depth == 0 {
		b.err = fmt.Errorf("ber: build: End without Begin: %w", ErrBuilder)
		return
	}
	b.depth--
	start := b.stack[b.depth]
	n := len(b.buf) - start
	if n < 0x80 {
		b.buf[start-1] = byte(n)
		return
	}
	k := lengthOctets(n)
	// grow by k and move the contents forward
	for i := 0; i < k; i++ {
		b.buf = append(b.buf, 0)
	}
	copy(b.buf[start+k:], b.buf[start:start+n])
	b.buf[start-1] = 0x80 | byte(k)
	for i := 0; i < k; i++ {
		b.buf[start+i] = byte(n >> (8 * uint(k-1-i)))
	}
}

// head appends a primitive header; it reports false (and records an error)
// for a tag number beyond MaxTag or after an earlier error.
func (b *Builder) head(c Class, tag uint32, n int) bool {
	if b.err != nil {
		return false
	}
	if tag > MaxTag {
		b.err = fmt.Errorf("ber: build: tag %d too large: %w", tag, ErrBuilder)
		return false
	}
	b.buf = AppendHeader(b.buf, c, false, tag, n)
	return true
}

// Primitive appends a primitive element with the given contents.
func (b *Builder) Primitive(c Class, tag uint32, content []byte) {
	if b.head(c, tag, len(content)) {
		b.buf = append(b.buf, content...)
	}
}

// String appends a primitive element whose contents are the bytes of s
// (OCTET STRING, UTF8String, PrintableString, ... depending on the tag).
func (b *Builder) String(c Class, tag uint32, s string) {
	if b.head(c, tag, len(s)) {
		b.buf = append(b.buf, s...)
	}
}

// Int appends an INTEGER (or ENUMERATED, with that tag) holding v in the
// minimal two's-complement form.
func (b *Builder) Int(c Class, tag uint32, v int64) {
	if b.err != nil {
		return
	}
	n := intLen(v)
	if !b.head(c, tag, n) {
		return
	}
	for i := n - 1; i >= 0; i-- {
		b.buf = append(b.buf, byte(v>>(8*uint(i))))
	}
}

// Uint appends an INTEGER holding the non-negative v (up to 2^64-1, e.g.
// MicroSecondTimeStamp.seconds), with a leading zero octet when needed.
func (b *Builder) Uint(c Class, tag uint32, v uint64) {
	if b.err != nil {
		return
	}
	n := uintLen(v)
	if !b.head(c, tag, n) {
		return
	}
	for i := n - 1; i >= 0; i-- {
		if i >= 8 {
			b.buf = append(b.buf, 0)
			continue
		}
		b.buf = append(b.buf, byte(v>>(8*uint(i))))
	}
}

// Bool appends a BOOLEAN (0xFF for true, as DER requires).
func (b *Builder) Bool(c Class, tag uint32, v bool) {
	if b.err != nil {
		return
	}
	if !b.head(c, tag, 1) {
		return
	}
	if v {
		b.buf = append(b.buf, 0xff)
	} else {
		b.buf = append(b.buf, 0)
	}
}

// Null appends a NULL (empty contents).
func (b *Builder) Null(c Class, tag uint32) {
	if b.err != nil {
		return
	}
	b.head(c, tag, 0)
}

// OID appends an OBJECT IDENTIFIER. It needs at least two arcs, the first
// 0, 1 or 2 and the second below 40 unless the first is 2.
func (b *Builder) OID(c Class, tag uint32, oid OID) {
	if b.err != nil {
		return
	}
	if err := oid.check(); err != nil {
		b.err = fmt.Errorf("ber: build: %w", err)
		return
	}
	if b.head(c, tag, oid.contentLen()) {
		b.buf = oid.appendContent(b.buf)
	}
}

// RelativeOID appends a RELATIVE-OID (each arc a sub-identifier).
func (b *Builder) RelativeOID(c Class, tag uint32, arcs OID) {
	if b.err != nil {
		return
	}
	if len(arcs) == 0 {
		b.err = fmt.Errorf("ber: build: empty RELATIVE-OID: %w", ErrBuilder)
		return
	}
	n := 0
	for _, a := range arcs {
		n += subidLen(a)
	}
	if !b.head(c, tag, n) {
		return
	}
	for _, a := range arcs {
		b.buf = appendSubid(b.buf, a)
	}
}

// GeneralizedTime appends t in UTC as "YYYYMMDDhhmmss.fffZ" (millisecond
// fraction always present). Years outside 0..9999 are an error.
func (b *Builder) GeneralizedTime(c Class, tag uint32, t time.Time) {
	if b.err != nil {
		return
	}
	t = t.UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		b.err = fmt.Errorf("ber: build: GeneralizedTime year %d out of range: %w", t.Year(), ErrBuilder)
		return
	}
	if b.head(c, tag, 19) {
		b.buf = AppendGeneralizedTime(b.buf, t)
	}
}

// UTCTime appends t in UTC as "YYMMDDhhmmssZ" (years 1950..2049).
func (b *Builder) UTCTime(c Class, tag uint32, t time.Time) {
	if b.err != nil {
		return
	}
	t = t.UTC()
	y := t.Year()
	if y < 1950 || y > 2049 {
		b.err = fmt.Errorf("ber: build: UTCTime year %d out of range: %w", y, ErrBuilder)
		return
	}
	if !b.head(c, tag, 13) {
		return
	}
	b.buf = append2(b.buf, y%100)
	b.buf = append2(b.buf, int(t.Month()))
	b.buf = append2(b.buf, t.Day())
	b.buf = append2(b.buf, t.Hour())
	b.buf = append2(b.buf, t.Minute())
	b.buf = append2(b.buf, t.Second())
	b.buf = append(b.buf, 'Z')
}

// Raw appends pre-encoded bytes (one or more complete elements) verbatim.
func (b *Builder) Raw(tlv []byte) {
	if b.err != nil {
		return
	}
	b.buf = append(b.buf, tlv...)
}

// AppendGeneralizedTime appends the 19 characters "YYYYMMDDhhmmss.fffZ" of
// t (which must be UTC, year 0..9999) without a header.
func AppendGeneralizedTime(dst []byte, t time.Time) []byte {
	y := t.Year()
	dst = append2(dst, y/100)
	dst = append2(dst, y%100)
	dst = append2(dst, int(t.Month()))
	dst = append2(dst, t.Day())
	dst = append2(dst, t.Hour())
	dst = append2(dst, t.Minute())
	dst = append2(dst, t.Second())
	ms := t.Nanosecond() / 1e6
	dst = append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	return dst
}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10%10), byte('0'+v%10))
}

// intLen is the minimal number of two's-complement octets for v.
func intLen(v int64) int {
	n := 1
	for v > 127 || v < -128 {
		n++
		v >>= 8
	}
	return n
}

// uintLen is the number of octets of the minimal INTEGER encoding of v >= 0.
func uintLen(v uint64) int {
	n := 1
	for v > 127 {
		n++
		v >>= 8
	}
	return n
}

// AppendInt appends a complete INTEGER-style element (header and contents);
// a convenience for callers that do not use a Builder.
func AppendInt(dst []byte, c Class, tag uint32, v int64) []byte {
	n := intLen(v)
	dst = AppendHeader(dst, c, false, tag, n)
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*uint(i))))
	}
	return dst
}

// AppendUint appends a complete INTEGER element holding v >= 0.
func AppendUint(dst []byte, c Class, tag uint32, v uint64) []byte {
	n := uintLen(v)
	dst = AppendHeader(dst, c, false, tag, n)
	for i := n - 1; i >= 0; i-- {
		if i >= 8 {
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, byte(v>>(8*uint(i))))
	}
	return dst
}

// IntLen returns the size of the complete element AppendInt writes.
func IntLen(tag uint32, v int64) int { n := intLen(v); return HeaderLen(tag, n) + n }

// UintLen returns the size of the complete element AppendUint writes.
func UintLen(tag uint32, v uint64) int { n := uintLen(v); return HeaderLen(tag, n) + n }
