package etsi

import (
	"fmt"
	"io"
	"slices"

	"rcds/hi/ber"
)

// PayloadKind selects the PS-PDU payload alternative AppendPSPDU writes.
type PayloadKind uint8

const (
	// KindIRI is iRIPayloadSequence [0]: the payloads are IRIPayload elements.
	KindIRI PayloadKind = 1
	// KindCC is cCPayloadSequence [1]: the payloads are CCPayload elements.
	KindCC PayloadKind = 2
)

func (k PayloadKind) String() string {
	switch k {
	case KindIRI:
		return "iri"
	case KindCC:
		return "cc"
	}
	return fmt.Sprintf("PayloadKind(%d)", uint8(k))
}

// AppendPSPDU appends a complete PS-PDU to dst: the header h (encoded and
// checked like Marshal does) and a payload sequence made of the given
// pre-encoded IRIPayload (KindIRI) or CCPayload (KindCC) elements, spliced
// in byte for byte. It is the MDF's hot path: the BER an X2/X3 PDU carries
// is never decoded and re-encoded, and with a dst of sufficient capacity it
// does not allocate.
//
// Each payload must be exactly one element with the universal SEQUENCE tag
// (definite or indefinite length); its inside is not inspected here. Use
// CheckPayload (a full decode) where payloads come from an untrusted POI.
// At least one payload is required. On error dst is returned unchanged.
func AppendPSPDU(dst []byte, h *PSHeader, kind PayloadKind, payloads ...[]byte) ([]byte, error) {
	var tag uint32
	switch kind {
	case KindIRI:
		tag = 0
	case KindCC:
		tag = 1
	default:
		return dst, fmt.Errorf("etsi: append PS-PDU: payload kind %d: %w", kind, ErrInvalid)
	}
	if len(payloads) == 0 {
		return dst, fmt.Errorf("etsi: append PS-PDU: no payload: %w", ErrInvalid)
	}
	plen := 0
	for i, p := range payloads {
		e, err := ber.ParseOne(p)
		if err != nil {
			return dst, fmt.Errorf("etsi: append PS-PDU: payload %d: %w", i, err)
		}
		if !e.Constructed || !e.Is(uni, ber.TagSequence) {
			return dst, fmt.Errorf("etsi: append PS-PDU: payload %d is %s, not a SEQUENCE: %w", i, e, ErrInvalid)
		}
		plen += len(p)
	}
	seqLen := ber.HeaderLen(tag, plen) + plen
	wrapLen := ber.HeaderLen(2, seqLen) + seqLen

	const gap = 6 // room for the outer SEQUENCE header (lengths < 2^32)
	start := len(dst)
	dst = slices.Grow(dst, gap+160+len(h.LIID)+wrapLen)
	dst = dst[:start+gap]

	var b ber.Builder
	b.Reset(dst)
	encodePSHeader(&b, h)
	out, err := b.Bytes()
	if err != nil {
		return dst[:start], fmt.Errorf("etsi: append PS-PDU: %w", err)
	}
	hdrLen := len(out) - start - gap
	content := hdrLen + wrapLen
	k := ber.HeaderLen(ber.TagSequence, content)
	hs := start + gap - k
	ber.AppendHeader(out[:hs], uni, true, ber.TagSequence, content)
	if hs > start {
		copy(out[start:], out[hs:])
		out = out[:len(out)-(hs-start)]
	}
	out = ber.AppendHeader(out, ctx, true, 2, seqLen)
	out = ber.AppendHeader(out, ctx, true, tag, plen)
	for _, p := range payloads {
		out = append(out, p...)
	}
	return out, nil
}

// CheckPayload fully decodes a pre-encoded IRIPayload (KindIRI) or
// CCPayload (KindCC) and reports whether it is valid for AppendPSPDU.
func CheckPayload(kind PayloadKind, payload []byte) error {
	switch kind {
	case KindIRI:
		var p IRIPayload
		return UnmarshalIRIPayload(payload, &p)
	case KindCC:
		var p CCPayload
		return UnmarshalCCPayload(payload, &p)
	}
	return fmt.Errorf("etsi: check payload: kind %d: %w", kind, ErrInvalid)
}

// NewRecordReader splits an HI2/HI3 TCP byte stream into complete BER
// records (PS-PDUs, or IRIsContent for a raw TS 101 671 stream) of at most
// maxRecord bytes; see ber.RecordReader. Each record can be passed to
// Unmarshal.
func NewRecordReader(r io.Reader, maxRecord int) *ber.RecordReader {
	return ber.NewRecordReader(r, maxRecord)
}
