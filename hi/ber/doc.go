// Package ber is a small, exact BER/DER writer and reader (ITU-T X.690) for
// the ETSI handover records (hi/etsi) and anything else that speaks BER.
//
// # Writing
//
// Builder appends encodings to a caller's buffer: definite lengths only,
// minimal length and INTEGER forms (DER style), tag numbers up to 2^31-1 in
// the high-tag-number form from 31 on (ETSI uses [255]), all four classes,
// constructed elements via Begin/End (one length octet is reserved and
// patched, the contents moved forward when the long form is needed), and
// values: INTEGER/ENUMERATED (int64, and uint64 up to 2^64-1), BOOLEAN,
// NULL, OCTET STRING and the character strings, OBJECT IDENTIFIER,
// RELATIVE-OID, GeneralizedTime ("YYYYMMDDhhmmss.fffZ", UTC) and UTCTime,
// plus Raw for pre-encoded elements. A Builder on the stack with a reused
// buffer does not allocate; errors are sticky and reported by Bytes/Err.
//
// # Reading
//
// Parse/ParseOne read one element (definite or indefinite length) and
// Element.Children iterates a constructed element; typed accessors (Int64,
// Uint64, Uint32, Bool, Null, OID, RelativeOID, Bytes, UTF8, Printable,
// GeneralizedTime, UTCTime) decode contents, joining BER constructed
// strings. Validate walks a whole tree, ParseTree builds a generic Node tree
// (Encode re-encodes it with definite lengths), and RecordReader splits a
// byte stream into complete top-level records, in linear time however the
// bytes arrive.
//
// Everything X.690 forbids is an error, never a panic: a high tag number with
// a leading 0x80 octet or below 31, tag numbers beyond 2^31-1, the reserved
// length octet 0xFF, more than 8 length octets, a length past the end of
// the input or of the parent, indefinite length on a primitive, a missing or
// misplaced end-of-contents, universal tag 0 outside end-of-contents,
// constructed INTEGER/BOOLEAN/NULL/OID/ENUMERATED/RELATIVE-OID, primitive
// SEQUENCE/SET, non-minimal INTEGERs, BOOLEAN/NULL of the wrong size, OID
// sub-identifiers with a leading 0x80 or cut short, invalid times. What BER
// allows and DER does not is accepted: long-form lengths that are not
// minimal (OpenLI sends 30 82 00 9d), indefinite lengths, constructed
// strings, BOOLEAN true other than 0xFF. Nesting is bounded (Limits,
// DefaultMaxDepth 32) and so is a stream record (NewRecordReader's
// maxRecord). Errors wrap ErrTruncated, ErrMalformed, ErrTooDeep,
// ErrTooLarge, ErrUnexpectedTag or ErrBuilder.
package ber
