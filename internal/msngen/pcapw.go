package msngen

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Link-layer type numbers of pcap and pcapng.
const (
	linkEthernet = 1
	linkSLL      = 113
)

// pcapWriter writes pcap (microsecond) or pcapng records through a
// bufio.Writer; it keeps the first error.
type pcapWriter struct {
	w   *bufio.Writer
	ng  bool
	n   int64
	err error
	hdr [28]byte
	pad [4]byte
}

func newPcapWriter(w io.Writer, ng bool) *pcapWriter {
	return &pcapWriter{w: bufio.NewWriterSize(w, 1<<20), ng: ng}
}

func (p *pcapWriter) write(b []byte) {
	if p.err != nil {
		return
	}
	n, err := p.w.Write(b)
	p.n += int64(n)
	if err != nil {
		p.err = fmt.Errorf("msngen: write capture: %w", err)
	}
}

// header writes the file header (pcap) or section and interface blocks
// (pcapng) for the link type.
func (p *pcapWriter) header(link uint32) {
	le := binary.LittleEndian
	if !p.ng {
		var h [24]byte
		le.PutUint32(h[0:], 0xa1b2c3d4)
		le.PutUint16(h[4:], 2)
		le.PutUint16(h[6:], 4)
		le.PutUint32(h[16:], 262144)
		le.PutUint32(h[20:], link)
		p.write(h[:])
		return
	}
	// Section header block with an shb_userappl option.
	app := []byte("rcds gen")
	optLen := 4 + pad4(len(app)) + 4 // option, opt_endofopt
	shbLen := 28 + optLen
	shb := make([]byte, shbLen)
	le.PutUint32(shb[0:], 0x0A0D0D0A)
	le.PutUint32(shb[4:], uint32(shbLen))
	le.PutUint32(shb[8:], 0x1A2B3C4D)
	le.PutUint16(shb[12:], 1)
	le.PutUint16(shb[14:], 0)
	le.PutUint64(shb[16:], 0xFFFFFFFFFFFFFFFF)
	le.PutUint16(shb[24:], 4) // shb_userappl
	le.PutUint16(shb[26:], uint16(len(app)))
	copy(shb[28:], app)
	le.PutUint32(shb[shbLen-4:], uint32(shbLen))
	p.write(shb)
	// Interface description block; default resolution (microseconds).
	var idb [20]byte
	le.PutUint32(idb[0:], 1)
	le.PutUint32(idb[4:], 20)
	le.PutUint16(idb[8:], uint16(link))
	le.PutUint32(idb[12:], 262144)
	le.PutUint32(idb[16:], 20)
	p.write(idb[:])
}

func pad4(n int) int { return (n + 3) &^ 3 }

// packet writes one packet record; us is the time in Unix microseconds.
func (p *pcapWriter) packet(us int64, data []byte) {
	le := binary.LittleEndian
	if !p.ng {
		le.PutUint32(p.hdr[0:], uint32(us/1e6))
		le.PutUint32(p.hdr[4:], uint32(us%1e6))
		le.PutUint32(p.hdr[8:], uint32(len(data)))
		le.PutUint32(p.hdr[12:], uint32(len(data)))
		p.write(p.hdr[:16])
		p.write(data)
		return
	}
	n := len(data)
	blk := 32 + pad4(n)
	le.PutUint32(p.hdr[0:], 6)
	le.PutUint32(p.hdr[4:], uint32(blk))
	le.PutUint32(p.hdr[8:], 0)
	le.PutUint32(p.hdr[12:], uint32(uint64(us)>>32))
	le.PutUint32(p.hdr[16:], uint32(us))
	le.PutUint32(p.hdr[20:], uint32(n))
	le.PutUint32(p.hdr[24:], uint32(n))
	p.write(p.hdr[:28])
	p.write(data)
	if k := pad4(n) - n; k > 0 {
		p.write(p.pad[:k])
	}
	le.PutUint32(p.hdr[0:], uint32(blk))
	p.write(p.hdr[:4])
}

func (p *pcapWriter) flush() error {
	if p.err != nil {
		return p.err
	}
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("msngen: write capture: %w", err)
	}
	return nil
}
