package ber

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// records returns a stream of definite and indefinite records and the
// records themselves.
func streamRecords(t testing.TB) ([]byte, [][]byte) {
	t.Helper()
	big := bytes.Repeat([]byte{0x5a}, 70000)
	var b Builder
	b.BeginSequence()
	b.Primitive(ClassContext, 0, big)
	b.End()
	bigRec, _ := b.Bytes()
	recs := [][]byte{
		unhex(t, "3003 020105"),
		unhex(t, "3080 a080 8101 05 0000 0403 414243 0000"),
		bigRec,
		unhex(t, "0500"),
		unhex(t, "bf817f 03 810101"),
		unhex(t, "3080 3080 3080 0000 0000 0000"),
	}
	var stream []byte
	for _, r := range recs {
		stream = append(stream, r...)
	}
	return stream, recs
}

func TestRecordReader(t *testing.T) {
	stream, recs := streamRecords(t)
	readers := map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(stream) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
		"data+EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			rr := NewRecordReader(mk(), 1<<20)
			for i, want := range recs {
				got, err := rr.Next()
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("record %d: %d bytes, want %d", i, len(got), len(want))
				}
			}
			if _, err := rr.Next(); err != io.EOF {
				t.Fatalf("after the last record: %v, want io.EOF", err)
			}
		})
	}
}

func TestRecordReaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		max  int
		good int // records returned before the error
		want error
	}{
		{"too large definite", unhex(t, "0482 1000"), 1000, 0, ErrRecordTooLarge},
		{"too large indefinite", append(unhex(t, "3080 0482 07d0"), make([]byte, 2000)...), 1000, 0, ErrRecordTooLarge},
		{"truncated", unhex(t, "3003 020105 3005 0201"), 100, 1, io.ErrUnexpectedEOF},
		{"truncated indefinite", unhex(t, "3080 020105"), 100, 0, io.ErrUnexpectedEOF},
		{"garbage length", unhex(t, "3003 020105 04ff"), 100, 1, ErrMalformed},
		{"EOC at top", unhex(t, "0000"), 100, 0, ErrMalformed},
		{"indefinite primitive", unhex(t, "0480 0000"), 100, 0, ErrMalformed},
		{"bad inside definite", unhex(t, "3003 0205 01"), 100, 0, ErrMalformed},
		{"too deep indefinite", bytes.Repeat([]byte{0x30, 0x80}, DefaultMaxDepth+1), 1000, 0, ErrTooDeep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rr := NewRecordReader(iotest.OneByteReader(bytes.NewReader(tc.in)), tc.max)
			for i := 0; i < tc.good; i++ {
				if _, err := rr.Next(); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
			}
			_, err := rr.Next()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if _, err2 := rr.Next(); !errors.Is(err2, tc.want) {
				t.Fatalf("error not sticky: %v", err2)
			}
		})
	}
}

// countingReader counts bytes delivered, to check the buffer bound.
type countingReader struct {
	r       io.Reader
	maxRead int
}

func (c *countingReader) Read(p []byte) (int, error) {
	if len(p) > c.maxRead {
		c.maxRead = len(p)
	}
	return c.r.Read(p)
}

func TestRecordReaderBounded(t *testing.T) {
	// an endless indefinite-length record must fail at the bound, not grow
	endless := io.MultiReader(bytes.NewReader([]byte{0x30, 0x80}), infiniteNulls{})
	cr := &countingReader{r: endless}
	rr := NewRecordReader(cr, 4096)
	if _, err := rr.Next(); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if cap(rr.buf) > 4096+2*readChunk {
		t.Fatalf("buffer grew to %d", cap(rr.buf))
	}
}

// infiniteNulls yields NULL elements forever.
type infiniteNulls struct{}

func (infiniteNulls) Read(p []byte) (int, error) {
	n := len(p) &^ 1
	for i := 0; i < n; i += 2 {
		p[i], p[i+1] = 0x05, 0x00
	}
	return n, nil
}
