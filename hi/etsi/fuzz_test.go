package etsi

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"rcds/hi/ber"
)

func seedCorpus(f *testing.F) [][]byte {
	var out [][]byte
	files, _ := filepath.Glob(filepath.Join("testdata", "*.ber"))
	for _, p := range files {
		if filepath.Base(p) == "cc-large.ber" {
			continue
		}
		b, err := os.ReadFile(p)
		if err == nil {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		f.Fatal("no golden files to seed from")
	}
	return out
}

// FuzzUnmarshalPSPDU: never panics; errors carry a sentinel; whatever is
// accepted re-encodes, and the re-encoding decodes to the same value.
func FuzzUnmarshalPSPDU(f *testing.F) {
	for _, b := range seedCorpus(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p PSPDU
		err := Unmarshal(data, &p)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ber.ErrMalformed) && !errors.Is(err, ber.ErrTruncated) &&
				!errors.Is(err, ber.ErrTooDeep) && !errors.Is(err, ber.ErrTooLarge) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		b, err := Marshal(&p)
		if err != nil {
			t.Fatalf("accepted record does not re-encode: %v", err)
		}
		var q PSPDU
		if err := Unmarshal(b, &q); err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		normalize(&p)
		if !reflect.DeepEqual(&p, &q) {
			t.Fatalf("value changed in a round trip\n%#v\n%#v", p, q)
		}
		b2, err := Marshal(&q)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("re-encoding is not a fixed point (%v)", err)
		}
	})
}

// FuzzUnmarshalIRIsContent is FuzzUnmarshalPSPDU for raw TS 101 671 records.
func FuzzUnmarshalIRIsContent(f *testing.F) {
	for _, c := range hi2Corpus() {
		b, err := MarshalIRIsContent(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := UnmarshalIRIsContent(data)
		if err != nil {
			return
		}
		b, err := MarshalIRIsContent(c)
		if err != nil {
			t.Fatalf("accepted record does not re-encode: %v", err)
		}
		d, err := UnmarshalIRIsContent(b)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		normIRIsContent(c)
		if !reflect.DeepEqual(c, d) {
			t.Fatalf("value changed in a round trip")
		}
	})
}

// FuzzRecordReader: a stream of arbitrary bytes is split into records that
// are consecutive slices of the input, each decodable or rejected without
// a panic; the reader stops at the first framing error.
func FuzzRecordReader(f *testing.F) {
	seeds := seedCorpus(f)
	var stream []byte
	for _, b := range seeds[:10] {
		stream = append(stream, b...)
	}
	f.Add(stream, uint16(4096))
	f.Add(append(append([]byte{}, seeds[0]...), 0x30, 0x80, 0x05, 0x00), uint16(100))
	f.Fuzz(func(t *testing.T, data []byte, max uint16) {
		rr := NewRecordReader(bytes.NewReader(data), int(max))
		off := 0
		for {
			rec, err := rr.Next()
			if err != nil {
				if err == io.EOF && off != len(data) {
					t.Fatalf("EOF with %d bytes unread", len(data)-off)
				}
				return
			}
			if !bytes.Equal(rec, data[off:off+len(rec)]) {
				t.Fatalf("record at %d is not the input bytes", off)
			}
			off += len(rec)
			var p PSPDU
			_ = Unmarshal(rec, &p)
		}
	})
}
