package x2x3

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
)

// FileSink is a Sink that writes the raw PDU stream, back to back exactly as
// it would go over TCP (for `rcds poi --x2x3-out FILE`; ../shared/tools/raw2pcap
// wraps such a file into a pcap). Writes are buffered; Flush writes the
// buffer out and, when the destination has a Sync method (an *os.File),
// syncs it to disk. It is safe for concurrent use. After a write error every
// call returns that error.
type FileSink struct {
	mu     sync.Mutex
	w      *bufio.Writer
	dst    io.Writer
	file   *os.File // set when the sink opened the file itself
	buf    []byte
	err    error
	closed bool
	pdus   uint64
	bytes  uint64
}

// NewFileSink returns a FileSink writing to w.
func NewFileSink(w io.Writer) *FileSink {
	return &FileSink{w: bufio.NewWriterSize(w, 256<<10), dst: w}
}

// CreateFileSink creates (or truncates) the file at path, readable by its
// owner only, and returns a FileSink writing to it; Close closes the file.
func CreateFileSink(path string) (*FileSink, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("x2x3: create file sink: %w", err)
	}
	s := NewFileSink(f)
	s.file = f
	return s, nil
}

// Send encodes p and appends it to the stream.
func (s *FileSink) Send(ctx context.Context, p *PDU) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("x2x3: file sink: send: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	b, err := p.AppendBinary(s.buf[:0])
	if err != nil {
		return fmt.Errorf("x2x3: file sink: send: %w", err)
	}
	s.buf = b
	if cap(s.buf) > 1<<20 { // do not keep a 16 MiB scratch buffer for one large PDU
		s.buf = nil
	}
	if _, err := s.w.Write(b); err != nil {
		s.err = fmt.Errorf("x2x3: file sink: write: %w", err)
		return s.err
	}
	s.pdus++
	s.bytes += uint64(len(b))
	return nil
}

// Flush writes out the buffered PDUs and syncs the file.
func (s *FileSink) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("x2x3: file sink: flush: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	return s.flush()
}

func (s *FileSink) flush() error {
	if err := s.w.Flush(); err != nil {
		s.err = fmt.Errorf("x2x3: file sink: flush: %w", err)
		return s.err
	}
	if f, ok := s.dst.(interface{ Sync() error }); ok {
		if err := f.Sync(); err != nil {
			s.err = fmt.Errorf("x2x3: file sink: sync: %w", err)
			return s.err
		}
	}
	return nil
}

func (s *FileSink) usable() error {
	if s.closed {
		return fmt.Errorf("x2x3: file sink: %w", ErrClosed)
	}
	return s.err
}

// Close flushes and syncs, then closes the file if CreateFileSink opened it.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	err := s.err
	if err == nil {
		err = s.flush()
	}
	s.closed = true
	if s.file != nil {
		if cerr := s.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("x2x3: file sink: close: %w", cerr)
		}
	}
	return err
}

// Stats returns the number of PDUs and bytes written so far.
func (s *FileSink) Stats() (pdus, bytes uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pdus, s.bytes
}
