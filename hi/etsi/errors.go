package etsi

import "errors"

var (
	// ErrInvalid means a value breaks the ASN.1 module: a SIZE or range
	// constraint, a character set, a missing mandatory field, an undefined
	// value of an ENUMERATED, an unexpected tag or alternative, or
	// components out of order. It is returned both when encoding (the value
	// cannot be sent) and when decoding (the record is off-spec). Malformed
	// BER is reported with the hi/ber sentinels (ber.ErrMalformed,
	// ber.ErrTruncated, ber.ErrTooDeep, ber.ErrTooLarge).
	ErrInvalid = errors.New("etsi: invalid value")

	// ErrNotConvertible means a record cannot be converted between profiles
	// (for example a MessagingIRI without a time stamp to TS 101 671, or a
	// CIN that does not fit communication-Identity-Number).
	ErrNotConvertible = errors.New("etsi: not convertible")

	// ErrIntegrity means an integrity check does not match the records.
	ErrIntegrity = errors.New("etsi: integrity check mismatch")
)
