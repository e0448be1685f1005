package x2x3

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// readChunk is how much a Reader reads (and allocates) ahead of the data
// that has actually arrived; larger PDUs grow their buffer geometrically.
const readChunk = 64 << 10

// Reader reads PDUs from a byte stream (a TCP connection, a file written by
// FileSink). Memory is bounded: a PDU's header is at most MaxHeaderLen and
// its payload at most the reader's limit, and the buffer grows only as the
// bytes of the PDU arrive, so a peer that announces 16 MiB and sends 100
// bytes costs 100 bytes, not 16 MiB.
//
// After a decoding or read error the Reader stays failed: the framing of the
// stream is lost and the caller is to drop the connection.
type Reader struct {
	r          io.Reader
	maxPayload int
	off        int64
	err        error
	fixed      [HeaderLen]byte
}

// NewReader returns a Reader of r that refuses payloads longer than
// maxPayload bytes; 0, a negative value or one above MaxPayload (16 MiB)
// means MaxPayload.
func NewReader(r io.Reader, maxPayload int) *Reader {
	if maxPayload <= 0 || maxPayload > MaxPayload {
		maxPayload = MaxPayload
	}
	return &Reader{r: r, maxPayload: maxPayload}
}

// Offset is the number of bytes of the stream consumed by whole PDUs.
func (r *Reader) Offset() int64 { return r.off }

// Next reads the next PDU. It returns io.EOF (unwrapped) when the stream
// ends cleanly between PDUs. The PDU's payload and raw attributes are in a
// buffer of its own that the Reader does not touch again.
func (r *Reader) Next() (*PDU, error) {
	if r.err != nil {
		return nil, r.err
	}
	p, err := r.next()
	if err != nil {
		if err != io.EOF {
			err = fmt.Errorf("x2x3: read PDU at offset %d: %w", r.off, err)
		}
		r.err = err
		return nil, err
	}
	return p, nil
}

func (r *Reader) next() (*PDU, error) {
	n, err := io.ReadFull(r.r, r.fixed[:])
	switch {
	case err == io.EOF:
		return nil, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("%w: stream ends after %d of %d header bytes (%w)", ErrTruncated, n, HeaderLen, io.ErrUnexpectedEOF)
	case err != nil:
		return nil, err
	}
	hl, pl, err := checkFixed(r.fixed[:], r.maxPayload)
	if err != nil {
		return nil, err
	}
	total := hl + pl
	buf := make([]byte, HeaderLen, min(total, max(readChunk, HeaderLen)))
	copy(buf, r.fixed[:])
	buf, err = readFull(r.r, buf, total)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
			return nil, fmt.Errorf("%w: stream ends after %d of %d bytes (%w)", ErrTruncated, len(buf), total, io.ErrUnexpectedEOF)
		}
		return nil, err
	}
	p := new(PDU)
	if err := p.decode(buf, hl, false); err != nil {
		return nil, err
	}
	r.off += int64(total)
	return p, nil
}

// readFull reads until buf holds want bytes, growing it by at most what it
// already holds (or readChunk) at a time.
func readFull(r io.Reader, buf []byte, want int) ([]byte, error) {
	for len(buf) < want {
		step := min(want-len(buf), max(readChunk, len(buf)))
		buf = slices.Grow(buf, step)
		n, err := io.ReadFull(r, buf[len(buf):len(buf)+step])
		buf = buf[:len(buf)+n]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
