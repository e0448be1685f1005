package x2x3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func sampleStream(t testing.TB) ([]byte, []*PDU) {
	t.Helper()
	var stream []byte
	var pdus []*PDU
	for _, s := range samplePDUs() {
		var err error
		if stream, err = s.pdu.AppendBinary(stream); err != nil {
			t.Fatal(err)
		}
		pdus = append(pdus, s.pdu)
	}
	return stream, pdus
}

func TestReaderStream(t *testing.T) {
	stream, want := sampleStream(t)
	wrappers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+EOF": iotest.DataErrReader,
		"timeout":  iotest.TimeoutReader, // second read fails: only the first PDU
		"multi":    func(r io.Reader) io.Reader { return io.MultiReader(r) },
	}
	for name, wrap := range wrappers {
		t.Run(name, func(t *testing.T) {
			rd := NewReader(wrap(bytes.NewReader(stream)), 0)
			var got []*PDU
			var err error
			for {
				var p *PDU
				if p, err = rd.Next(); err != nil {
					break
				}
				got = append(got, p)
			}
			if name == "timeout" {
				if !errors.Is(err, iotest.ErrTimeout) {
					t.Fatalf("error %v, want the reader's timeout", err)
				}
				if malformed(err) {
					t.Errorf("an I/O error is reported as malformed input: %v", err)
				}
				return
			}
			if err != io.EOF {
				t.Fatalf("error %v, want io.EOF", err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d PDUs, want %d", len(got), len(want))
			}
			for i := range got {
				equalPDU(t, fmt.Sprint("PDU ", i), got[i], want[i])
			}
			if rd.Offset() != int64(len(stream)) {
				t.Errorf("offset %d, want %d", rd.Offset(), len(stream))
			}
			if _, err := rd.Next(); err != io.EOF {
				t.Errorf("Next after EOF: %v", err)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	stream, _ := sampleStream(t)
	first, _ := samplePDUs()[0].pdu.MarshalBinary()
	n := len(first)
	large := 0 // offset of the sample with a payload larger than a TCP segment
	for _, s := range samplePDUs() {
		if s.name == "x3-mime-large" {
			break
		}
		large += s.pdu.EncodedLen()
	}
	tests := []struct {
		name       string
		in         []byte
		maxPayload int
		before     int // PDUs read before the error
		want       []error
	}{
		{"cut in fixed header", stream[:n+20], 0, 1, []error{ErrTruncated, io.ErrUnexpectedEOF}},
		{"cut in attributes", stream[:n+50], 0, 1, []error{ErrTruncated, io.ErrUnexpectedEOF}},
		{"cut in payload", stream[:len(stream)-1], 0, len(samplePDUs()) - 1, []error{ErrTruncated, io.ErrUnexpectedEOF}},
		{"cut in large payload", stream[:large+3000], 0, 4, []error{ErrTruncated, io.ErrUnexpectedEOF}},
		{"header length < 40", append(bytes.Clone(first), header(1, 12, 0)...), 0, 1, []error{ErrHeaderLength}},
		{"header length huge", append(bytes.Clone(first), header(1, 0x7fffffff, 0)...), 0, 1, []error{ErrHeaderLength}},
		{"attribute overrun", append(bytes.Clone(first), header(1, 48, 0, 0, 17, 0, 200, 's', 'h', 'o', 'r')...), 0, 1, []error{ErrAttrOverrun}},
		{"attribute header cut", append(bytes.Clone(first), header(1, 42, 0, 0, 8)...), 0, 1, []error{ErrAttrOverrun}},
		{"payload > 16 MiB", header(2, 40, 16<<20+1), 0, 0, []error{ErrPayloadTooLarge}},
		{"payload > reader limit", append(bytes.Clone(first), header(2, 40, 1001)...), 1000, 1, []error{ErrPayloadTooLarge}},
		{"unknown type", append(bytes.Clone(first), header(7, 40, 0)...), 0, 1, []error{ErrPDUType}},
		{"keep-alive with payload", header(3, 40, 4, 1, 2, 3, 4), 0, 0, []error{ErrKeepalivePayload}},
		{"HI2 BER instead of X2", []byte{0x30, 0x81, 0x9e, 0xa1, 0x81, 0x9b, 0x80, 0x08, 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x11, 0x00,
			0x81, 0x04, 0x30, 0x30, 0x30, 0x31, 0x82, 0x02, 0x4e, 0x5a, 0xa3, 0x2c, 0x80, 0x01, 0x41, 0x81, 0x02, 0x4e, 0x41,
			0x82, 0x04, 0x6c, 0x69, 0x69, 0x64, 0x83, 0x01, 0x01}, 0, 0, []error{ErrPDUType}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := NewReader(iotest.HalfReader(bytes.NewReader(tt.in)), tt.maxPayload)
			for i := 0; i < tt.before; i++ {
				if _, err := rd.Next(); err != nil {
					t.Fatalf("PDU %d: %v", i, err)
				}
			}
			off := rd.Offset()
			p, err := rd.Next()
			if p != nil || err == nil {
				t.Fatalf("no error after %d PDUs", tt.before)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error %v is not %v", err, w)
				}
			}
			if !malformed(err) {
				t.Errorf("error %v is not classified as malformed input", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("at offset %d:", off)) {
				t.Errorf("error %q does not name offset %d", err, off)
			}
			if _, err2 := rd.Next(); err2 != err {
				t.Errorf("second Next: %v, want the same error", err2)
			}
		})
	}
}

type failAfter struct {
	r   io.Reader
	n   int
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

func TestReaderIOError(t *testing.T) {
	stream, _ := sampleStream(t)
	boom := errors.New("connection reset")
	rd := NewReader(&failAfter{r: bytes.NewReader(stream), n: 300, err: boom}, 0)
	var err error
	for err == nil {
		_, err = rd.Next()
	}
	if !errors.Is(err, boom) || malformed(err) {
		t.Errorf("error %v: want the I/O error, not a malformed-input error", err)
	}
}

// TestReaderBoundedMemory: a PDU announcing a 16 MiB payload of which only
// a little arrives costs little memory.
func TestReaderBoundedMemory(t *testing.T) {
	in := append(header(2, 40, MaxPayload), make([]byte, 1000)...)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := NewReader(bytes.NewReader(in), 0).Next()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("error %v, want truncated", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("reading 1040 bytes of a PDU announcing 16 MiB allocated %d bytes", alloc)
	}
	// A whole maximal PDU is read.
	in = append(header(2, 40, MaxPayload), make([]byte, MaxPayload)...)
	p, err := NewReader(iotest.HalfReader(bytes.NewReader(in)), 0).Next()
	if err != nil || len(p.Payload) != MaxPayload {
		t.Fatalf("16 MiB payload: %v", err)
	}
}

func TestReaderLimitClamp(t *testing.T) {
	for _, limit := range []int{-1, 0, MaxPayload + 1, 1 << 40} {
		if got := NewReader(nil, limit).maxPayload; got != MaxPayload {
			t.Errorf("limit %d: %d, want %d", limit, got, MaxPayload)
		}
	}
}
