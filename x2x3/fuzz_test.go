package x2x3

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// fuzzSeeds are the seed inputs of both fuzz targets: the representative
// set, a stream of it, and the hostile shapes named in the issue.
func fuzzSeeds(f *testing.F) {
	stream, _ := sampleStream(f)
	f.Add(stream)
	for _, s := range samplePDUs() {
		b, err := s.pdu.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2]) // truncated
	}
	first, _ := samplePDUs()[0].pdu.MarshalBinary()
	f.Add(header(1, 12, 0))                                                 // header length < 40
	f.Add(header(1, 39, 0, 1, 2, 3, 4, 5, 6, 7, 8))                         // header length < 40
	f.Add(header(1, 200, 0, 0, 8, 0, 4, 0, 0, 0, 1))                        // header length > PDU
	f.Add(header(1, 0xffffffff, 0xffffffff))                                // both lengths huge
	f.Add(header(1, 48, 0, 0, 17, 0, 200, 1, 2, 3, 4))                      // attribute overrun
	f.Add(header(1, 42, 0, 0, 8))                                           // attribute header cut
	f.Add(header(2, 40, 16<<20+1))                                          // payload > 16 MiB
	f.Add(header(3, 40, 2, 0, 0))                                           // keep-alive with payload
	f.Add(header(0, 40, 0))                                                 // unknown type
	f.Add(append(bytes.Clone(first), header(1, 12, 0)...))                  // good, then garbage
	f.Add(header(1, 52, 0, 0, 9, 0, 8, 0, 0, 0, 1, 0x3b, 0x9a, 0xca, 0x00)) // 10^9 ns
}

// FuzzUnmarshal: any input gives a PDU or an error, never a panic; what
// decodes re-encodes, and the re-encoding is a fixed point.
func FuzzUnmarshal(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Unmarshal(b)
		if err != nil {
			if p != nil {
				t.Fatal("PDU and error")
			}
			if !malformed(err) {
				t.Fatalf("error not classified as malformed: %v", err)
			}
			return
		}
		b2, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded PDU does not encode: %v", err)
		}
		if len(b2) != len(b) {
			t.Fatalf("re-encoded %d bytes from %d", len(b2), len(b))
		}
		p2, err := Unmarshal(b2)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		b3, err := p2.MarshalBinary()
		if err != nil || !bytes.Equal(b2, b3) {
			t.Fatalf("re-encoding is not a fixed point (%v)", err)
		}
	})
}

// FuzzReader: any byte stream yields PDUs and then io.EOF or a
// malformed-input error, never a panic; every PDU read re-encodes to as
// many bytes as it took, so the reader's offset accounts for each byte.
func FuzzReader(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		rd := NewReader(bytes.NewReader(b), 1<<20)
		var consumed []byte
		for {
			p, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if !malformed(err) {
					t.Fatalf("error not classified as malformed: %v", err)
				}
				if errors.Is(err, ErrTruncated) != errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("truncation error without io.ErrUnexpectedEOF: %v", err)
				}
				if _, again := rd.Next(); again != err {
					t.Fatal("error not sticky")
				}
				break
			}
			enc, err := p.MarshalBinary()
			if err != nil {
				t.Fatalf("PDU read does not encode: %v", err)
			}
			if _, err := Unmarshal(enc); err != nil {
				t.Fatalf("PDU read does not round-trip: %v", err)
			}
			consumed = append(consumed, enc...)
		}
		if int64(len(consumed)) != rd.Offset() || rd.Offset() > int64(len(b)) {
			t.Fatalf("offset %d, re-encoded %d bytes of %d", rd.Offset(), len(consumed), len(b))
		}
	})
}
