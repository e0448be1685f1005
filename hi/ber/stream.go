package ber

import (
	"errors"
	"fmt"
	"io"
)

// ErrRecordTooLarge means a record in a stream exceeds the reader's bound.
var ErrRecordTooLarge = fmt.Errorf("ber: record exceeds the size bound: %w", ErrTooLarge)

const readChunk = 32 << 10

// RecordReader splits a byte stream (a TCP connection carrying BER records
// back to back, as HI2/HI3 and X2/X3 payload streams do) into complete
// top-level elements. Definite and indefinite lengths are supported; the
// work per record is linear in its size however the bytes arrive, memory is
// bounded by maxRecord plus one read chunk, and every record returned has
// passed Validate. After an error the stream is out of step and every later
// call returns the same error.
type RecordReader struct {
	r      io.Reader
	max    int
	limits Limits
	buf    []byte // buffered bytes; buf[off:] is unconsumed
	off    int
	err    error

	// incremental scan state of the record at buf[off:]
	scanPos   int // bytes of the record already scanned (relative to off)
	openIndef int // indefinite-length elements still open
	total     int // known total length (0: not yet known)
}

// NewRecordReader returns a reader of records of at most maxRecord bytes
// (a value below 2 means 1 MiB).
func NewRecordReader(r io.Reader, maxRecord int) *RecordReader {
	if maxRecord < 2 {
		maxRecord = 1 << 20
	}
	return &RecordReader{r: r, max: maxRecord}
}

// SetLimits sets the nesting bound used when scanning and validating.
func (rr *RecordReader) SetLimits(l Limits) { rr.limits = l }

// Next returns the next complete record. The slice is valid until the next
// call. At a clean end of stream it returns io.EOF; a stream that ends
// inside a record gives io.ErrUnexpectedEOF.
func (rr *RecordReader) Next() ([]byte, error) {
	if rr.err != nil {
		return nil, rr.err
	}
	rr.scanPos, rr.openIndef, rr.total = 0, 0, 0
	for {
		done, err := rr.scan()
		if err != nil {
			rr.err = err
			return nil, err
		}
		if done {
			rec := rr.buf[rr.off : rr.off+rr.total]
			if err := rr.limits.Validate(rec); err != nil {
				rr.err = fmt.Errorf("ber: read record: %w", err)
				return nil, rr.err
			}
			rr.off += rr.total
			return rec, nil
		}
		if err := rr.fill(); err != nil {
			rr.err = err
			return nil, err
		}
	}
}

// fill reads more bytes. It first drops the records already returned, so
// the buffer never holds more than max plus one read chunk.
func (rr *RecordReader) fill() error {
	if rr.off > 0 {
		n := copy(rr.buf, rr.buf[rr.off:])
		rr.buf = rr.buf[:n]
		rr.off = 0
	}
	want := readChunk
	if rr.total > 0 && rr.total-len(rr.buf) < want {
		want = rr.total - len(rr.buf)
	}
	if want <= 0 {
		want = 1
	}
	if cap(rr.buf)-len(rr.buf) < want {
		nb := make([]byte, len(rr.buf), len(rr.buf)+want+len(rr.buf)/2)
		copy(nb, rr.buf)
		rr.buf = nb
	}
	space := rr.buf[len(rr.buf):cap(rr.buf)]
	if room := rr.max + readChunk - len(rr.buf); len(space) > room {
		space = space[:room]
	}
	for tries := 0; ; tries++ {
		n, err := rr.r.Read(space)
		rr.buf = rr.buf[:len(rr.buf)+n]
		if n > 0 {
			return nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(rr.buf) == 0 {
					return io.EOF
				}
				return fmt.Errorf("ber: read record: stream ended inside a record (%d bytes): %w", len(rr.buf), io.ErrUnexpectedEOF)
			}
			return fmt.Errorf("ber: read record: %w", err)
		}
		if tries > 100 {
			return fmt.Errorf("ber: read record: %w", io.ErrNoProgress)
		}
	}
}

// scan advances the incremental scan over buf; it reports whether the
// record is complete (rr.total set).
func (rr *RecordReader) scan() (bool, error) {
	data := rr.buf[rr.off:]
	maxDepth := rr.limits.maxDepth()
	for {
		if rr.total > 0 {
			if rr.total > rr.max {
				return false, fmt.Errorf("ber: read record: %d bytes > %d: %w", rr.total, rr.max, ErrRecordTooLarge)
			}
			return len(data) >= rr.total, nil
		}
		if rr.scanPos > rr.max {
			return false, fmt.Errorf("ber: read record: more than %d bytes: %w", rr.max, ErrRecordTooLarge)
		}
		rest := data[rr.scanPos:]
		if rr.scanPos > 0 && rr.openIndef > 0 && len(rest) >= 2 && rest[0] == 0 && rest[1] == 0 {
			rr.openIndef--
			rr.scanPos += 2
			if rr.openIndef == 0 {
				rr.total = rr.scanPos
			}
			continue
		}
		h, err := parseHeader(rest)
		if err != nil {
			if errors.Is(err, ErrTruncated) {
				return false, nil
			}
			return false, fmt.Errorf("ber: read record: %w", err)
		}
		if rr.scanPos == 0 && h.class == ClassUniversal && h.tag == TagEOC {
			return false, fmt.Errorf("ber: read record: end-of-contents at top level: %w", ErrMalformed)
		}
		if h.length < 0 {
			if !h.constructed {
				return false, fmt.Errorf("ber: read record: indefinite length on a primitive element: %w", ErrMalformed)
			}
			if rr.openIndef+1 > maxDepth {
				return false, fmt.Errorf("ber: read record: nesting deeper than %d: %w", maxDepth, ErrTooDeep)
			}
			rr.openIndef++
			rr.scanPos += h.hdrLen
			continue
		}
		end := rr.scanPos + h.hdrLen + h.length
		if rr.scanPos == 0 {
			rr.total = end // definite top-level record: its size is known
			continue
		}
		if end > rr.max {
			return false, fmt.Errorf("ber: read record: more than %d bytes: %w", rr.max, ErrRecordTooLarge)
		}
		if end > len(data) {
			return false, nil // wait for the rest of this inner element
		}
		rr.scanPos = end
	}
}
