package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Source is a packet source.
type Source interface {
	// ReadPacket returns the next packet. data is valid until the next
	// call. At the end of a file it returns io.EOF; a live source returns
	// ErrTimeout when nothing arrived for a while (reading can go on).
	ReadPacket() (data []byte, ci gopacket.CaptureInfo, err error)
	// LinkType is the link type of the packets. A source whose packets
	// have different link types (pcapng with several interfaces) puts each
	// packet's type in ci.AncillaryData[0] as a layers.LinkType.
	LinkType() layers.LinkType
	Close() error
}

// Format is the container format of a capture file.
type Format uint8

const (
	FormatPcap   Format = iota + 1 // libpcap, micro- or nanosecond, either byte order
	FormatPcapNG                   // pcapng
)

func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return "unknown"
}

// Magic numbers, as read in little-endian order from the first 4 bytes.
const (
	magicPcapMicro   = 0xa1b2c3d4
	magicPcapMicroBE = 0xd4c3b2a1
	magicPcapNano    = 0xa1b23c4d
	magicPcapNanoBE  = 0x4d3cb2a1
	magicPcapNG      = 0x0a0d0d0a
)

// readBufSize is the read-ahead buffer of file sources.
const readBufSize = 256 << 10

// FileSource reads a pcap or pcapng capture, optionally gzip-compressed;
// the format is found from the content, not the name.
type FileSource struct {
	format Format
	gz     bool
	pcap   *pcapgo.Reader
	ng     *pcapgo.NgReader
	link   layers.LinkType
	count  *countingReader
	total  int64
	closer io.Closer // the file opened by OpenFile
	gzr    *gzip.Reader
}

// OpenFile opens a capture file.
func OpenFile(path string) (*FileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: open file: %w", err)
	}
	s, err := newFileSource(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("capture: open %s: %w", path, err)
	}
	s.closer = f
	return s, nil
}

// NewFileSource reads a capture from r. Close does not close r. Progress
// knows the total size when r is an *os.File or has a Size() int64 method
// (bytes.Reader, strings.Reader).
func NewFileSource(r io.Reader) (*FileSource, error) {
	s, err := newFileSource(r)
	if err != nil {
		return nil, fmt.Errorf("capture: read capture: %w", err)
	}
	return s, nil
}

func newFileSource(r io.Reader) (*FileSource, error) {
	s := &FileSource{count: &countingReader{r: r}}
	switch v := r.(type) {
	case *os.File:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			s.total = fi.Size()
		}
	case interface{ Size() int64 }:
		s.total = v.Size()
	}
	size := readBufSize
	if s.total > 0 && s.total < int64(size) {
		size = max(int(s.total), 16)
	}
	br := bufio.NewReaderSize(s.count, size)
	magic, err := peekMagic(br)
	if err != nil {
		return nil, err
	}
	if magic&0xffff == 0x8b1f { // gzip: 1f 8b
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		s.gz, s.gzr = true, gz
		br = bufio.NewReaderSize(gz, readBufSize)
		if magic, err = peekMagic(br); err != nil {
			return nil, err
		}
	}
	switch magic {
	case magicPcapMicro, magicPcapMicroBE, magicPcapNano, magicPcapNanoBE:
		s.format = FormatPcap
		if s.pcap, err = pcapgo.NewReader(br); err != nil {
			return nil, fmt.Errorf("pcap header: %w", err)
		}
		s.link = s.pcap.LinkType()
	case magicPcapNG:
		s.format = FormatPcapNG
		if s.ng, err = pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true}); err != nil {
			return nil, fmt.Errorf("pcapng section header: %w", err)
		}
	default:
		return nil, fmt.Errorf("magic %08x: %w", magic, ErrUnknownFormat)
	}
	return s, nil
}

// peekMagic returns the first 4 bytes of br as a little-endian number.
func peekMagic(br *bufio.Reader) (uint32, error) {
	b, err := br.Peek(4)
	if err != nil {
		if errors.Is(err, io.EOF) {
			if len(b) == 0 {
				return 0, fmt.Errorf("empty input: %w", ErrUnknownFormat)
			}
			return 0, fmt.Errorf("%d-byte input: %w", len(b), ErrUnknownFormat)
		}
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

// Format reports whether the capture is pcap or pcapng.
func (s *FileSource) Format() Format { return s.format }

// Compressed reports whether the capture is gzip-compressed.
func (s *FileSource) Compressed() bool { return s.gz }

// ReadPacket returns the next packet; data is valid until the next call.
// A pcapng packet's link type is in ci.AncillaryData[0].
func (s *FileSource) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	if s.pcap != nil {
		data, ci, err := s.pcap.ZeroCopyReadPacketData()
		if err == io.EOF && ci.CaptureLength > 0 {
			// A record header whose data is missing entirely: the file was
			// cut, it did not end.
			err = io.ErrUnexpectedEOF
		}
		return data, ci, err
	}
	data, ci, err := s.ng.ZeroCopyReadPacketData()
	if err == nil && s.link == 0 && len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			s.link = lt
		}
	}
	return data, ci, err
}

// LinkType is the link type of a pcap file, or of the first interface of a
// pcapng file (known once a packet was read; each pcapng packet carries its
// own in ci.AncillaryData[0]).
func (s *FileSource) LinkType() layers.LinkType {
	if s.ng != nil && s.link == 0 && s.ng.NInterfaces() > 0 {
		if in, err := s.ng.Interface(0); err == nil {
			return in.LinkType
		}
	}
	return s.link
}

// Progress returns the bytes of the file read so far and its size (0 when
// unknown). For a compressed file both count compressed bytes. Safe to call
// from another goroutine.
func (s *FileSource) Progress() (read, total int64) {
	return s.count.n.Load(), s.total
}

// Close releases the file opened by OpenFile.
func (s *FileSource) Close() error {
	var err error
	if s.gzr != nil {
		err = s.gzr.Close()
	}
	if s.closer != nil {
		if cerr := s.closer.Close(); cerr != nil && err == nil {
			err = cerr
		}
		s.closer = nil
	}
	if err != nil {
		return fmt.Errorf("capture: close: %w", err)
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// packetLinkType returns the link type of one packet of src.
func packetLinkType(ci *gopacket.CaptureInfo, def layers.LinkType) layers.LinkType {
	if len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			return lt
		}
	}
	return def
}
