// Package ber is a small, exact BER/DER writer and reader for the ETSI
// handover records: definite lengths on output, high tag numbers, and a
// reader that also accepts indefinite lengths and rejects malformed input
// with an error, never a panic.
package ber
