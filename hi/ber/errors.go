package ber

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them,
// so callers can branch with errors.Is.
var (
	// ErrTruncated means the input ends before the element does: a header
	// cut short, contents shorter than the length, or an indefinite-length
	// element without its end-of-contents. A stream reader can wait for more
	// bytes; for a complete buffer it is a malformed input.
	ErrTruncated = errors.New("ber: truncated element")
	// ErrMalformed means the bytes break an X.690 rule (bad length form,
	// indefinite length on a primitive, non-minimal INTEGER, stray
	// end-of-contents, bad OID sub-identifier, ...).
	ErrMalformed = errors.New("ber: malformed encoding")
	// ErrTooDeep means constructed elements are nested deeper than the
	// configured bound.
	ErrTooDeep = errors.New("ber: nesting too deep")
	// ErrTooLarge means an element or record exceeds a configured size bound
	// or a value does not fit the Go type it is decoded into.
	ErrTooLarge = errors.New("ber: too large")
	// ErrUnexpectedTag means an element is not the one the caller expected
	// (Expect, the typed Parse helpers).
	ErrUnexpectedTag = errors.New("ber: unexpected tag")
	// ErrBuilder means the Builder was misused (End without Begin, Bytes
	// with open elements, nesting beyond MaxBuilderDepth, invalid OID).
	ErrBuilder = errors.New("ber: builder misuse")
)
