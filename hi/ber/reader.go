package ber

import (
	"errors"
	"fmt"
	"math"
)

// DefaultMaxDepth bounds the nesting of constructed elements when no Limits
// are given. The deepest ETSI record RCDS handles nests about 14 levels.
const DefaultMaxDepth = 32

// Limits bound the reader. The zero value means DefaultMaxDepth.
type Limits struct {
	// MaxDepth is the deepest nesting level accepted; the outermost element
	// is at level 1.
	MaxDepth int
}

func (l Limits) maxDepth() int {
	if l.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return l.MaxDepth
}

// Element is one parsed TLV. Content and Raw alias the input.
type Element struct {
	Class       Class
	Constructed bool
	Tag         uint32
	// Indefinite is true when the element used the indefinite length form.
	Indefinite bool
	// Content holds the contents octets (without the end-of-contents octets
	// of an indefinite-length element).
	Content []byte
	// Raw is the complete element: identifier, length, contents and, for the
	// indefinite form, the end-of-contents octets.
	Raw []byte

	level, max int // nesting level (1 = outermost) and the bound in force
}

// Is reports whether the element has the given class and tag number.
func (e Element) Is(c Class, tag uint32) bool { return e.Class == c && e.Tag == tag }

// String describes the element's tag, e.g. "[CONTEXT 3] constructed".
func (e Element) String() string {
	form := "primitive"
	if e.Constructed {
		form = "constructed"
	}
	return fmt.Sprintf("[%s %d] %s", e.Class, e.Tag, form)
}

// Expect returns an error wrapping ErrUnexpectedTag unless the element has
// the given class, form and tag number.
func (e Element) Expect(c Class, constructed bool, tag uint32) error {
	if e.Class != c || e.Tag != tag || e.Constructed != constructed {
		form := "primitive"
		if constructed {
			form = "constructed"
		}
		return fmt.Errorf("ber: expected [%s %d] %s, got %s: %w", c, tag, form, e, ErrUnexpectedTag)
	}
	return nil
}

// Parse reads the element at the start of data and returns it and the
// bytes after it, with DefaultMaxDepth. The error wraps ErrTruncated when
// data ends before the element does.
func Parse(data []byte) (Element, []byte, error) {
	return parseAt(data, 1, DefaultMaxDepth)
}

// Parse reads the element at the start of data under l.
func (l Limits) Parse(data []byte) (Element, []byte, error) {
	return parseAt(data, 1, l.maxDepth())
}

// ParseOne reads exactly one element filling all of data.
func (l Limits) ParseOne(data []byte) (Element, error) {
	e, rest, err := l.Parse(data)
	if err != nil {
		return Element{}, err
	}
	if len(rest) != 0 {
		return Element{}, fmt.Errorf("ber: %d bytes after the element: %w", len(rest), ErrMalformed)
	}
	return e, nil
}

// ParseOne reads exactly one element filling all of data with the default limits.
func ParseOne(data []byte) (Element, error) { return Limits{}.ParseOne(data) }

// header is a parsed identifier and length.
type header struct {
	class       Class
	constructed bool
	tag         uint32
	hdrLen      int
	length      int // -1: indefinite
}

// parseHeader reads identifier and length octets.
func parseHeader(data []byte) (header, error) {
	var h header
	if len(data) < 2 {
		return h, fmt.Errorf("ber: header needs at least 2 bytes, have %d: %w", len(data), ErrTruncated)
	}
	b0 := data[0]
	h.class = Class(b0 >> 6)
	h.constructed = b0&0x20 != 0
	i := 1
	if b0&0x1f != 0x1f {
		h.tag = uint32(b0 & 0x1f)
	} else {
		var t uint64
		for n := 0; ; n++ {
			if i >= len(data) {
				return h, fmt.Errorf("ber: high tag number cut short: %w", ErrTruncated)
			}
			c := data[i]
			i++
			if n == 0 && c == 0x80 {
				return h, fmt.Errorf("ber: high tag number with leading 0x80 octet: %w", ErrMalformed)
			}
			t = t<<7 | uint64(c&0x7f)
			if t > MaxTag {
				return h, fmt.Errorf("ber: tag number overflows %d: %w", MaxTag, ErrMalformed)
			}
			if c&0x80 == 0 {
				break
			}
		}
		if t < 31 {
			return h, fmt.Errorf("ber: tag number %d in high-tag-number form: %w", t, ErrMalformed)
		}
		h.tag = uint32(t)
	}
	if i >= len(data) {
		return h, fmt.Errorf("ber: length octets missing: %w", ErrTruncated)
	}
	l0 := data[i]
	i++
	switch {
	case l0 < 0x80:
		h.length = int(l0)
	case l0 == 0x80:
		h.length = -1
	case l0 == 0xff:
		return h, fmt.Errorf("ber: reserved length octet 0xff: %w", ErrMalformed)
	default:
		k := int(l0 & 0x7f)
		if k > 8 {
			return h, fmt.Errorf("ber: %d length octets: %w", k, ErrTooLarge)
		}
		if len(data) < i+k {
			return h, fmt.Errorf("ber: long-form length cut short: %w", ErrTruncated)
		}
		var n uint64
		for _, c := range data[i : i+k] {
			n = n<<8 | uint64(c)
		}
		i += k
		if n > math.MaxInt32 {
			return h, fmt.Errorf("ber: length %d: %w", n, ErrTooLarge)
		}
		h.length = int(n)
	}
	h.hdrLen = i
	return h, nil
}

// mustBePrimitive lists the universal types X.690 requires to be primitive.
func mustBePrimitive(tag uint32) bool {
	switch tag {
	case TagBoolean, TagInteger, TagNull, TagOID, TagReal, TagEnumerated, TagRelativeOID:
		return true
	}
	return false
}

func parseAt(data []byte, level, max int) (Element, []byte, error) {
	if level > max {
		return Element{}, nil, fmt.Errorf("ber: nesting deeper than %d: %w", max, ErrTooDeep)
	}
	h, err := parseHeader(data)
	if err != nil {
		return Element{}, nil, err
	}
	e := Element{Class: h.class, Constructed: h.constructed, Tag: h.tag, level: level, max: max}
	if h.class == ClassUniversal {
		switch {
		case h.tag == TagEOC:
			return Element{}, nil, fmt.Errorf("ber: unexpected end-of-contents or universal tag 0: %w", ErrMalformed)
		case h.constructed && mustBePrimitive(h.tag):
			return Element{}, nil, fmt.Errorf("ber: constructed encoding of universal type %d: %w", h.tag, ErrMalformed)
		case !h.constructed && (h.tag == TagSequence || h.tag == TagSet):
			return Element{}, nil, fmt.Errorf("ber: primitive encoding of universal type %d: %w", h.tag, ErrMalformed)
		}
	}
	if h.length >= 0 {
		end := h.hdrLen + h.length
		if end > len(data) {
			return Element{}, nil, fmt.Errorf("ber: %s: length %d runs past the end (%d bytes left): %w", e, h.length, len(data)-h.hdrLen, ErrTruncated)
		}
		e.Content = data[h.hdrLen:end]
		e.Raw = data[:end]
		return e, data[end:], nil
	}
	if !h.constructed {
		return Element{}, nil, fmt.Errorf("ber: %s: indefinite length on a primitive element: %w", e, ErrMalformed)
	}
	e.Indefinite = true
	pos := h.hdrLen
	for {
		if len(data)-pos < 2 {
			return Element{}, nil, fmt.Errorf("ber: %s: no end-of-contents: %w", e, ErrTruncated)
		}
		if data[pos] == 0 && data[pos+1] == 0 {
			e.Content = data[h.hdrLen:pos]
			e.Raw = data[:pos+2]
			return e, data[pos+2:], nil
		}
		child, _, err := parseAt(data[pos:], level+1, max)
		if err != nil {
			return Element{}, nil, err
		}
		pos += len(child.Raw)
	}
}

// Iter walks the children of a constructed element. Use:
//
//	it := e.Children()
//	for it.Next() { c := it.Element(); ... }
//	if err := it.Err(); err != nil { ... }
type Iter struct {
	data       []byte
	level, max int
	cur        Element
	err        error
}

// Children returns an iterator over the element's children. Iterating a
// primitive element yields an error.
func (e Element) Children() Iter {
	it := Iter{data: e.Content, level: e.level + 1, max: e.max}
	if it.max == 0 {
		it.max = DefaultMaxDepth
		it.level = 2
	}
	if !e.Constructed {
		it.err = fmt.Errorf("ber: %s: children of a primitive element: %w", e, ErrMalformed)
	}
	return it
}

// Next advances to the next child; it returns false at the end or on error.
func (it *Iter) Next() bool {
	if it.err != nil || len(it.data) == 0 {
		return false
	}
	e, rest, err := parseAt(it.data, it.level, it.max)
	if err != nil {
		if isTruncated(err) {
			err = fmt.Errorf("ber: element runs past the end of its parent (%v): %w", err, ErrMalformed)
		}
		it.err = err
		return false
	}
	it.cur = e
	it.data = rest
	return true
}

// Element returns the current child.
func (it *Iter) Element() Element { return it.cur }

// Err returns the error that stopped the iteration, if any.
func (it *Iter) Err() error { return it.err }

// Validate checks that data is exactly one well-formed element, walking
// every constructed element down to the primitives.
func (l Limits) Validate(data []byte) error {
	e, err := l.ParseOne(data)
	if err != nil {
		return err
	}
	return validateTree(e)
}

// Validate is Limits{}.Validate.
func Validate(data []byte) error { return Limits{}.Validate(data) }

func validateTree(e Element) error {
	if !e.Constructed {
		return nil
	}
	it := e.Children()
	for it.Next() {
		if err := validateTree(it.Element()); err != nil {
			return err
		}
	}
	return it.Err()
}

func isTruncated(err error) bool { return errors.Is(err, ErrTruncated) }
