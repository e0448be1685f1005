package etsi

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"testing/iotest"

	"rcds/hi/ber"
)

// TestRecordReaderCorpus splits the whole corpus, sent back to back, with
// reads of every size, and decodes each record.
func TestRecordReaderCorpus(t *testing.T) {
	var stream []byte
	var want [][]byte
	for _, n := range corpus() {
		b, err := Marshal(n.pdu)
		if err != nil {
			t.Fatal(err)
		}
		stream = append(stream, b...)
		want = append(want, b)
	}
	for name, r := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(stream)),
		"half":     iotest.HalfReader(bytes.NewReader(stream)),
		"whole":    bytes.NewReader(stream),
	} {
		t.Run(name, func(t *testing.T) {
			rr := NewRecordReader(r, 1<<20)
			for i, w := range want {
				rec, err := rr.Next()
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if !bytes.Equal(rec, w) {
					t.Fatalf("record %d differs", i)
				}
				var p PSPDU
				if err := Unmarshal(rec, &p); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
			}
			if _, err := rr.Next(); err != io.EOF {
				t.Fatalf("end: %v", err)
			}
		})
	}
}

// TestRecordReaderTCP reads records over a real loopback TCP connection,
// including a record bigger than the bound, which stops the stream.
func TestRecordReaderTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var recs [][]byte
	for _, n := range corpus()[:19] {
		b, err := Marshal(n.pdu)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, b)
	}
	big, err := Marshal(corpus()[19].pdu) // cc-large, 72 kB
	if err != nil || len(big) < 70000 {
		t.Fatalf("corpus order changed: %d bytes, %v", len(big), err)
	}
	errc := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		for _, r := range recs {
			if _, err := c.Write(r); err != nil {
				errc <- err
				return
			}
		}
		_, err = c.Write(big)
		errc <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rr := NewRecordReader(c, 64<<10)
	for i, w := range recs {
		got, err := rr.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !bytes.Equal(got, w) {
			t.Fatalf("record %d differs", i)
		}
	}
	if _, err := rr.Next(); !errors.Is(err, ber.ErrRecordTooLarge) {
		t.Fatalf("oversized record: %v", err)
	}
	c.Close()
	<-errc
}
