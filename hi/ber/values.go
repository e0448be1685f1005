package ber

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// ParseInt64 decodes INTEGER or ENUMERATED contents. Empty contents, a
// non-minimal encoding (X.690 8.3.2) and values beyond 64 bits are errors.
func ParseInt64(content []byte) (int64, error) {
	if err := checkInt(content); err != nil {
		return 0, err
	}
	if len(content) > 8 {
		return 0, fmt.Errorf("ber: INTEGER of %d octets does not fit int64: %w", len(content), ErrTooLarge)
	}
	v := int64(int8(content[0]))
	for _, c := range content[1:] {
		v = v<<8 | int64(c)
	}
	return v, nil
}

// ParseUint64 decodes a non-negative INTEGER up to 2^64-1.
func ParseUint64(content []byte) (uint64, error) {
	if err := checkInt(content); err != nil {
		return 0, err
	}
	if content[0]&0x80 != 0 {
		return 0, fmt.Errorf("ber: negative INTEGER where a non-negative one is required: %w", ErrMalformed)
	}
	if content[0] == 0 {
		content = content[1:]
	}
	if len(content) > 8 {
		return 0, fmt.Errorf("ber: INTEGER does not fit uint64: %w", ErrTooLarge)
	}
	var v uint64
	for _, c := range content {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

func checkInt(content []byte) error {
	if len(content) == 0 {
		return fmt.Errorf("ber: INTEGER with empty contents: %w", ErrMalformed)
	}
	if len(content) > 1 {
		if (content[0] == 0 && content[1]&0x80 == 0) || (content[0] == 0xff && content[1]&0x80 != 0) {
			return fmt.Errorf("ber: INTEGER not in minimal form: %w", ErrMalformed)
		}
	}
	return nil
}

// ParseBool decodes BOOLEAN contents: exactly one octet, zero is false and
// any other value true (BER; DER would require 0xFF).
func ParseBool(content []byte) (bool, error) {
	if len(content) != 1 {
		return false, fmt.Errorf("ber: BOOLEAN of %d octets: %w", len(content), ErrMalformed)
	}
	return content[0] != 0, nil
}

// ParseNull checks NULL contents (none).
func ParseNull(content []byte) error {
	if len(content) != 0 {
		return fmt.Errorf("ber: NULL with %d content octets: %w", len(content), ErrMalformed)
	}
	return nil
}

// ParseOIDContent decodes OBJECT IDENTIFIER contents.
func ParseOIDContent(content []byte) (OID, error) {
	subs, err := parseSubids(content, make(OID, 0, len(content)+1))
	if err != nil {
		return nil, err
	}
	first := subs[0]
	out := make(OID, 0, len(subs)+1)
	switch {
	case first < 40:
		out = append(out, 0, first)
	case first < 80:
		out = append(out, 1, first-40)
	default:
		out = append(out, 2, first-80)
	}
	return append(out, subs[1:]...), nil
}

// ParseRelativeOIDContent decodes RELATIVE-OID contents.
func ParseRelativeOIDContent(content []byte) (OID, error) {
	return parseSubids(content, make(OID, 0, len(content)))
}

// ParseGeneralizedTime decodes GeneralizedTime contents (X.680 46.2):
// "YYYYMMDDHH[MM[SS[.f...]]]" followed by "Z", a "+hhmm"/"-hhmm" offset, or
// nothing (local time of unknown zone, returned as UTC). A comma may
// replace the decimal point. The result is in UTC.
func ParseGeneralizedTime(content []byte) (time.Time, error) {
	s := content
	bad := func(why string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("ber: GeneralizedTime %q: %s: %w", printable(content), why, ErrMalformed)
	}
	if len(s) < 10 {
		return bad("too short")
	}
	var f [6]int // year, month, day, hour, min, sec
	var ok bool
	if f[0], ok = digits(s[0:4]); !ok {
		return bad("bad year")
	}
	for i, off := range []int{4, 6, 8} {
		if f[i+1], ok = digits(s[off : off+2]); !ok {
			return bad("bad date or hour")
		}
	}
	s = s[10:]
	if len(s) >= 2 && isDigit(s[0]) {
		f[4], _ = digits(s[:2])
		if !isDigit(s[1]) {
			return bad("bad minutes")
		}
		s = s[2:]
		if len(s) >= 2 && isDigit(s[0]) {
			f[5], _ = digits(s[:2])
			if !isDigit(s[1]) {
				return bad("bad seconds")
			}
			s = s[2:]
		}
	}
	nsec := 0
	if len(s) > 0 && (s[0] == '.' || s[0] == ',') {
		s = s[1:]
		n := 0
		scale := 100000000
		for n < len(s) && isDigit(s[n]) {
			if n < 9 {
				nsec += int(s[n]-'0') * scale
				scale /= 10
			}
			n++
		}
		if n == 0 {
			return bad("empty fraction")
		}
		s = s[n:]
	}
	loc := time.UTC
	switch {
	case len(s) == 0:
	case len(s) == 1 && s[0] == 'Z':
	case len(s) == 5 && (s[0] == '+' || s[0] == '-'):
		hh, ok1 := digits(s[1:3])
		mm, ok2 := digits(s[3:5])
		if !ok1 || !ok2 || hh > 23 || mm > 59 {
			return bad("bad offset")
		}
		off := hh*3600 + mm*60
		if s[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	default:
		return bad("trailing characters")
	}
	return makeTime(f, nsec, loc, bad)
}

// ParseUTCTime decodes UTCTime contents "YYMMDDhhmm[ss](Z|+hhmm|-hhmm)";
// years 50..99 are 19xx, 00..49 are 20xx (X.680 47, RFC 5280 convention).
func ParseUTCTime(content []byte) (time.Time, error) {
	s := content
	bad := func(why string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("ber: UTCTime %q: %s: %w", printable(content), why, ErrMalformed)
	}
	if len(s) < 11 {
		return bad("too short")
	}
	var f [6]int
	var ok bool
	for i := 0; i < 5; i++ {
		if f[i], ok = digits(s[2*i : 2*i+2]); !ok {
			return bad("bad digits")
		}
	}
	if f[0] < 50 {
		f[0] += 2000
	} else {
		f[0] += 1900
	}
	s = s[10:]
	if len(s) >= 2 && isDigit(s[0]) {
		if f[5], ok = digits(s[:2]); !ok {
			return bad("bad seconds")
		}
		s = s[2:]
	}
	loc := time.UTC
	switch {
	case len(s) == 1 && s[0] == 'Z':
	case len(s) == 5 && (s[0] == '+' || s[0] == '-'):
		hh, ok1 := digits(s[1:3])
		mm, ok2 := digits(s[3:5])
		if !ok1 || !ok2 || hh > 23 || mm > 59 {
			return bad("bad offset")
		}
		off := hh*3600 + mm*60
		if s[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	default:
		return bad("missing or bad time zone")
	}
	return makeTime(f, 0, loc, bad)
}

func makeTime(f [6]int, nsec int, loc *time.Location, bad func(string) (time.Time, error)) (time.Time, error) {
	if f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60 {
		return bad("field out of range")
	}
	sec := f[5]
	leap := sec == 60 // a leap second: keep it as :59.999999999 would lie; fold into next second
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], sec, nsec, loc)
	if t.Day() != f[2] && !leap {
		return bad("no such day")
	}
	return t.UTC(), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digits(s []byte) (int, bool) {
	v := 0
	for _, c := range s {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func printable(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

// IsPrintableString reports whether s uses only the PrintableString
// characters of X.680 41.4 (letters, digits, space and '()+,-./:=?).
func IsPrintableString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == ' ', c == '\'', c == '(', c == ')', c == '+', c == ',', c == '-', c == '.', c == '/', c == ':', c == '=', c == '?':
		default:
			return false
		}
	}
	return true
}

// IsIA5String reports whether s is 7-bit ASCII.
func IsIA5String(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Int64 decodes the element as INTEGER/ENUMERATED; it must be primitive.
func (e Element) Int64() (int64, error) {
	if e.Constructed {
		return 0, fmt.Errorf("ber: %s: INTEGER must be primitive: %w", e, ErrMalformed)
	}
	return ParseInt64(e.Content)
}

// Uint64 decodes the element as a non-negative INTEGER.
func (e Element) Uint64() (uint64, error) {
	if e.Constructed {
		return 0, fmt.Errorf("ber: %s: INTEGER must be primitive: %w", e, ErrMalformed)
	}
	return ParseUint64(e.Content)
}

// Uint32 decodes a non-negative INTEGER in 0..4294967295.
func (e Element) Uint32() (uint32, error) {
	v, err := e.Uint64()
	if err != nil {
		return 0, err
	}
	if v > math.MaxUint32 {
		return 0, fmt.Errorf("ber: %s: INTEGER %d exceeds 4294967295: %w", e, v, ErrTooLarge)
	}
	return uint32(v), nil
}

// Bool decodes the element as BOOLEAN.
func (e Element) Bool() (bool, error) {
	if e.Constructed {
		return false, fmt.Errorf("ber: %s: BOOLEAN must be primitive: %w", e, ErrMalformed)
	}
	return ParseBool(e.Content)
}

// Null checks that the element is a primitive NULL.
func (e Element) Null() error {
	if e.Constructed {
		return fmt.Errorf("ber: %s: NULL must be primitive: %w", e, ErrMalformed)
	}
	return ParseNull(e.Content)
}

// OID decodes the element as OBJECT IDENTIFIER.
func (e Element) OID() (OID, error) {
	if e.Constructed {
		return nil, fmt.Errorf("ber: %s: OBJECT IDENTIFIER must be primitive: %w", e, ErrMalformed)
	}
	return ParseOIDContent(e.Content)
}

// RelativeOID decodes the element as RELATIVE-OID.
func (e Element) RelativeOID() (OID, error) {
	if e.Constructed {
		return nil, fmt.Errorf("ber: %s: RELATIVE-OID must be primitive: %w", e, ErrMalformed)
	}
	return ParseRelativeOIDContent(e.Content)
}

// Bytes returns the contents of a string type (OCTET STRING, UTF8String,
// PrintableString, GeneralizedTime, ...). The primitive form aliases the
// input; the BER constructed form (segments, X.690 8.7.3) is joined into a
// new slice.
func (e Element) Bytes() ([]byte, error) {
	if !e.Constructed {
		return e.Content, nil
	}
	var out []byte
	if err := appendSegments(&out, e); err != nil {
		return nil, err
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

func appendSegments(out *[]byte, e Element) error {
	it := e.Children()
	for it.Next() {
		c := it.Element()
		if c.Class != ClassUniversal || c.Tag != TagOctetString {
			return fmt.Errorf("ber: segment %s of a constructed string is not an OCTET STRING: %w", c, ErrMalformed)
		}
		if c.Constructed {
			if err := appendSegments(out, c); err != nil {
				return err
			}
			continue
		}
		*out = append(*out, c.Content...)
	}
	return it.Err()
}

// UTF8 returns the string contents after checking they are valid UTF-8.
func (e Element) UTF8() (string, error) {
	b, err := e.Bytes()
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("ber: %s: UTF8String is not valid UTF-8: %w", e, ErrMalformed)
	}
	return string(b), nil
}

// Printable returns the contents of a PrintableString after checking its
// character set.
func (e Element) Printable() (string, error) {
	b, err := e.Bytes()
	if err != nil {
		return "", err
	}
	s := string(b)
	if !IsPrintableString(s) {
		return "", fmt.Errorf("ber: %s: characters outside PrintableString: %w", e, ErrMalformed)
	}
	return s, nil
}

// GeneralizedTime decodes the element as GeneralizedTime.
func (e Element) GeneralizedTime() (time.Time, error) {
	b, err := e.Bytes()
	if err != nil {
		return time.Time{}, err
	}
	return ParseGeneralizedTime(b)
}

// UTCTime decodes the element as UTCTime.
func (e Element) UTCTime() (time.Time, error) {
	b, err := e.Bytes()
	if err != nil {
		return time.Time{}, err
	}
	return ParseUTCTime(b)
}
