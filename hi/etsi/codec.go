package etsi

import (
	"bytes"
	"fmt"
	"time"
	"unicode/utf8"

	"rcds/hi/ber"
)

const (
	ctx = ber.ClassContext
	uni = ber.ClassUniversal
)

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", field, fmt.Sprintf(format, args...), ErrInvalid)
}

// within wraps an error of a nested decode with the field it belongs to.
func within(field string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s.%w", field, err)
}

func enumOK[T ~int](v T, lo, hi int) bool { return int(v) >= lo && int(v) <= hi }

// ---- encoding helpers ------------------------------------------------------

// sizeOK records an error in b unless lo <= n <= hi.
func sizeOK(b *ber.Builder, field string, n, lo, hi int) bool {
	if n < lo || n > hi {
		b.Fail(invalid(field, "size %d not in %d..%d", n, lo, hi))
		return false
	}
	return true
}

func encEnum[T ~int](b *ber.Builder, field string, tag uint32, v T, lo, hi int) {
	if !enumOK(v, lo, hi) {
		b.Fail(invalid(field, "value %d not defined", int(v)))
		return
	}
	b.Int(ctx, tag, int64(v))
}

func encUTF8(b *ber.Builder, field string, tag uint32, s string, lo, hi int) {
	if !utf8.ValidString(s) {
		b.Fail(invalid(field, "not valid UTF-8"))
		return
	}
	if sizeOK(b, field, len(s), lo, hi) {
		b.String(ctx, tag, s)
	}
}

func encPrintable(b *ber.Builder, field string, tag uint32, s string, lo, hi int) {
	if !ber.IsPrintableString(s) {
		b.Fail(invalid(field, "characters outside PrintableString"))
		return
	}
	if sizeOK(b, field, len(s), lo, hi) {
		b.String(ctx, tag, s)
	}
}

func encTime(b *ber.Builder, field string, tag uint32, t time.Time) {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		b.Fail(invalid(field, "year %d cannot be written", y))
		return
	}
	b.GeneralizedTime(ctx, tag, t)
}

// encRaw appends a pre-encoded CHOICE alternative after checking it is one
// well-formed element of the given class whose tag is not a modelled one.
func encRaw(b *ber.Builder, field string, raw []byte, known func(uint32) bool) {
	e, err := ber.ParseOne(raw)
	if err == nil {
		err = ber.Validate(raw)
	}
	if err != nil {
		b.Fail(invalid(field, "unknown alternative is not one BER element: %v", err))
		return
	}
	if e.Class != ctx || known(e.Tag) {
		b.Fail(invalid(field, "unknown alternative has tag %s, which is modelled or not context-specific", e))
		return
	}
	b.Raw(raw)
}

// ---- decoding helpers ------------------------------------------------------

// seq walks the components of a SEQUENCE, checking that context tags come
// in declaration order (rank) without repetition.
type seq struct {
	it   ber.Iter
	last int
	name string
}

func openSeq(e ber.Element, name string) (seq, error) {
	if !e.Constructed {
		return seq{}, invalid(name, "%s is primitive, a SEQUENCE is constructed", e)
	}
	return seq{it: e.Children(), last: -1, name: name}, nil
}

// next returns the next component; non-context components are an error.
func (s *seq) next() (ber.Element, bool, error) {
	if !s.it.Next() {
		if err := s.it.Err(); err != nil {
			return ber.Element{}, false, fmt.Errorf("%s: %w", s.name, err)
		}
		return ber.Element{}, false, nil
	}
	e := s.it.Element()
	if e.Class != ctx {
		return e, false, invalid(s.name, "unexpected component %s", e)
	}
	return e, true, nil
}

// atTag is at for a component named by its tag; the name is only built
// on error.
func (s *seq) atTag(rank int, tag uint32) error {
	if rank <= s.last {
		return invalid(fmt.Sprintf("%s[%d]", s.name, tag), "component out of order or repeated")
	}
	s.last = rank
	return nil
}

// each walks the remaining components in order: it checks each one's
// context tag with atTag (rank = tag) and then calls fn, stopping at the
// first error, which it returns unchanged.
func (s *seq) each(fn func(el ber.Element) error) error {
	for {
		el, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if err := s.atTag(int(el.Tag), el.Tag); err != nil {
			return err
		}
		if err := fn(el); err != nil {
			return err
		}
	}
}

// at checks the rank of a component.
func (s *seq) at(rank int, field string) error {
	if rank <= s.last {
		return invalid(field, "component out of order or repeated")
	}
	s.last = rank
	return nil
}

// missing reports an absent mandatory component of the SEQUENCE type name.
func missing(name, field string) error {
	return invalid(field, "mandatory component of %s missing", name)
}

// one returns the single child of an explicit tag wrapper (CHOICE inside a tag).
func one(e ber.Element, field string) (ber.Element, error) {
	if !e.Constructed {
		return ber.Element{}, invalid(field, "explicit tag %s is primitive", e)
	}
	it := e.Children()
	if !it.Next() {
		if err := it.Err(); err != nil {
			return ber.Element{}, fmt.Errorf("%s: %w", field, err)
		}
		return ber.Element{}, invalid(field, "empty explicit tag")
	}
	c := it.Element()
	if it.Next() {
		return ber.Element{}, invalid(field, "more than one element in an explicit tag")
	}
	if err := it.Err(); err != nil {
		return ber.Element{}, fmt.Errorf("%s: %w", field, err)
	}
	return c, nil
}

func prim(e ber.Element, field string) error {
	if e.Constructed {
		return invalid(field, "%s must be primitive", e)
	}
	return nil
}

func decUint32(e ber.Element, field string) (uint32, error) {
	if err := prim(e, field); err != nil {
		return 0, err
	}
	v, err := e.Uint64()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	if v > 1<<32-1 {
		return 0, invalid(field, "%d exceeds 4294967295", v)
	}
	return uint32(v), nil
}

func decEnum[T ~int](e ber.Element, field string, lo, hi int) (T, error) {
	if err := prim(e, field); err != nil {
		return 0, err
	}
	v, err := e.Int64()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	if v < int64(lo) || v > int64(hi) {
		return 0, invalid(field, "value %d not defined", v)
	}
	return T(v), nil
}

func decEnumPtr[T ~int](e ber.Element, field string, lo, hi int) (*T, error) {
	v, err := decEnum[T](e, field, lo, hi)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// decOctets returns a copy of an OCTET STRING (primitive or constructed).
func decOctets(e ber.Element, field string, lo, hi int) ([]byte, error) {
	b, err := e.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	if len(b) < lo || len(b) > hi {
		return nil, invalid(field, "size %d not in %d..%d", len(b), lo, hi)
	}
	return bytes.Clone(b), nil
}

func decString(e ber.Element, field string, lo, hi int) (string, error) {
	b, err := e.Bytes()
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	if len(b) < lo || len(b) > hi {
		return "", invalid(field, "size %d not in %d..%d", len(b), lo, hi)
	}
	return string(b), nil
}

func decUTF8(e ber.Element, field string, lo, hi int) (string, error) {
	s, err := decString(e, field, lo, hi)
	if err != nil {
		return "", err
	}
	if !utf8.ValidString(s) {
		return "", invalid(field, "not valid UTF-8")
	}
	return s, nil
}

func decPrintable(e ber.Element, field string, lo, hi int) (string, error) {
	s, err := decString(e, field, lo, hi)
	if err != nil {
		return "", err
	}
	if !ber.IsPrintableString(s) {
		return "", invalid(field, "characters outside PrintableString")
	}
	return s, nil
}

func decTime(e ber.Element, field string) (time.Time, error) {
	t, err := e.GeneralizedTime()
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", field, err)
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, invalid(field, "year %d out of range", y)
	}
	return t, nil
}

func decNull(e ber.Element, field string) error {
	if err := e.Null(); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}

func decOID(e ber.Element, field string) (ber.OID, error) {
	o, err := e.OID()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return o, nil
}

func decRelOID(e ber.Element, field string) (ber.OID, error) {
	o, err := e.RelativeOID()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return o, nil
}

func unknownOf(e ber.Element) *Unknown { return &Unknown{Raw: bytes.Clone(e.Raw)} }

func validUTF8(s string) bool { return utf8.ValidString(s) }
