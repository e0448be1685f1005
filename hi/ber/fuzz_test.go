package ber

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzRead: Parse, Validate and ParseTree never panic and agree; whatever
// is accepted re-encodes (definite lengths) to a tree that parses back
// equal, and re-encoding that is a fixed point.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"3003020105", "30800201050000", "a080810105bf817f038101010000",
		"2480040268690000", "3082000302010", "9f818000", "0481800000", "0000", "04ff",
		"30803080308000000000000", "bf817f03810101", "0c0368c3a9",
	} {
		b, _ := hexDecodeLoose(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, perr := Parse(data)
		verr := Validate(data)
		tree, terr := ParseTree(data)
		if (verr == nil) != (terr == nil) {
			t.Fatalf("Validate %v but ParseTree %v", verr, terr)
		}
		if verr == nil && perr != nil {
			t.Fatalf("Validate ok but Parse %v", perr)
		}
		for _, err := range []error{perr, verr} {
			if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrTooDeep) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error without a sentinel: %v", err)
			}
		}
		if terr != nil {
			return
		}
		var b Builder
		tree.Encode(&b)
		enc, err := b.Bytes()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		tree2, err := ParseTree(enc)
		if err != nil {
			t.Fatalf("re-encoding does not parse: %v", err)
		}
		if !tree.Equal(&tree2) {
			t.Fatalf("tree changed:\n%s\n%s", tree.String(), tree2.String())
		}
		var b2 Builder
		tree2.Encode(&b2)
		enc2, _ := b2.Bytes()
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("re-encoding is not a fixed point")
		}
	})
}

// FuzzRecordReaderStream: split arbitrary bytes; the records returned are
// consecutive prefixes of the input and each validates.
func FuzzRecordReaderStream(f *testing.F) {
	stream, _ := streamRecords(f)
	f.Add(stream[:200], uint16(1000))
	f.Add([]byte{0x30, 0x80, 0x05, 0x00, 0x00, 0x00, 0x05, 0x00}, uint16(10))
	f.Fuzz(func(t *testing.T, data []byte, max uint16) {
		rr := NewRecordReader(bytes.NewReader(data), int(max))
		off := 0
		for {
			rec, err := rr.Next()
			if err != nil {
				break
			}
			if !bytes.Equal(rec, data[off:off+len(rec)]) {
				t.Fatalf("record at %d is not the input bytes", off)
			}
			if err := Validate(rec); err != nil {
				t.Fatalf("returned record does not validate: %v", err)
			}
			if int(max) >= 2 && len(rec) > int(max) {
				t.Fatalf("record of %d bytes exceeds bound %d", len(rec), max)
			}
			off += len(rec)
		}
	})
}

func hexDecodeLoose(s string) ([]byte, error) {
	if len(s)%2 == 1 {
		s = s[:len(s)-1]
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		var v byte
		for _, c := range s[2*i : 2*i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= byte(c - '0')
			case c >= 'a' && c <= 'f':
				v |= byte(c - 'a' + 10)
			}
		}
		out[i] = v
	}
	return out, nil
}
