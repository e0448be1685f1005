package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// sampleRecs is a short conversation used by the file-format tests.
func sampleRecs(t testing.TB) []rec {
	c := newConv(t, cli, srv)
	return append(handshake(c),
		rec{at: ms(3), ip: c.seg(ClientToServer, "PA", 0, "USR 1 MD5 I a@b.c\r\n")},
		rec{at: ms(4), ip: c.seg(ServerToClient, "PA", 0, "USR 1 MD5 S 1013928519.693957190\r\n")},
		rec{at: ms(5), ip: c.seg(ClientToServer, "PA", 19, "OUT\r\n")},
	)
}

const (
	sampleC2S = "USR 1 MD5 I a@b.c\r\nOUT\r\n"
	sampleS2C = "USR 1 MD5 S 1013928519.693957190\r\n"
)

func checkSample(t *testing.T, r *recorder) {
	t.Helper()
	if len(r.conns) != 1 {
		t.Fatalf("%d connections", len(r.conns))
	}
	if c := r.conns[0]; string(c.data[ClientToServer]) != sampleC2S || string(c.data[ServerToClient]) != sampleS2C {
		t.Errorf("streams %q %q", c.data[ClientToServer], c.data[ServerToClient])
	}
}

// pcapBE writes recs as a big-endian pcap, by hand (pcapgo writes the
// host's order only). nano selects nanosecond timestamps.
func pcapBE(t testing.TB, recs []rec, nano bool) []byte {
	var b bytes.Buffer
	magic := uint32(magicPcapMicro)
	if nano {
		magic = magicPcapNano
	}
	hdr := make([]byte, 24)
	binary.BigEndian.PutUint32(hdr[0:], magic)
	binary.BigEndian.PutUint16(hdr[4:], 2)
	binary.BigEndian.PutUint16(hdr[6:], 4)
	binary.BigEndian.PutUint32(hdr[16:], 65535)
	binary.BigEndian.PutUint32(hdr[20:], 1)
	b.Write(hdr)
	for _, r := range recs {
		data := frame(t, lkEthernet, r.ip)
		ts := t0.Add(r.at)
		ph := make([]byte, 16)
		binary.BigEndian.PutUint32(ph[0:], uint32(ts.Unix()))
		frac := uint32(ts.Nanosecond() / 1000)
		if nano {
			frac = uint32(ts.Nanosecond())
		}
		binary.BigEndian.PutUint32(ph[4:], frac)
		binary.BigEndian.PutUint32(ph[8:], uint32(len(data)))
		binary.BigEndian.PutUint32(ph[12:], uint32(len(data)))
		b.Write(ph)
		b.Write(data)
	}
	return b.Bytes()
}

func TestFileFormats(t *testing.T) {
	recs := sampleRecs(t)
	pcapLE := pcapBytes(t, lkEthernet, recs)
	var nanoLE bytes.Buffer
	{
		w := pcapgo.NewWriterNanos(&nanoLE)
		if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			d := frame(t, lkEthernet, r.ip)
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: t0.Add(r.at + 7), CaptureLength: len(d), Length: len(d)}, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	ng := func(t *testing.T, k linkKind) []byte {
		var b bytes.Buffer
		w, err := pcapgo.NewNgWriter(&b, k.linkType())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			d := frame(t, k, r.ip)
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: t0.Add(r.at), CaptureLength: len(d), Length: len(d)}, d); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	gz := func(b []byte) []byte {
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	tests := []struct {
		name   string
		file   []byte
		format Format
		gz     bool
		link   layers.LinkType
		nanos  bool
	}{
		{"pcap little-endian", pcapLE, FormatPcap, false, layers.LinkTypeEthernet, false},
		{"pcap big-endian", pcapBE(t, recs, false), FormatPcap, false, layers.LinkTypeEthernet, false},
		{"pcap nanoseconds", nanoLE.Bytes(), FormatPcap, false, layers.LinkTypeEthernet, true},
		{"pcap nanoseconds big-endian", pcapBE(t, recs, true), FormatPcap, false, layers.LinkTypeEthernet, false},
		{"pcapng", ng(t, lkEthernet), FormatPcapNG, false, layers.LinkTypeEthernet, false},
		{"pcapng SLL2", ng(t, lkSLL2), FormatPcapNG, false, layers.LinkTypeLinuxSLL2, false},
		{"pcap gzip", gz(pcapLE), FormatPcap, true, layers.LinkTypeEthernet, false},
		{"pcapng gzip", gz(ng(t, lkEthernet)), FormatPcapNG, true, layers.LinkTypeEthernet, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := NewFileSource(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if src.Format() != tc.format || src.Compressed() != tc.gz {
				t.Errorf("format %v gz %v", src.Format(), src.Compressed())
			}
			r := &recorder{}
			e := NewEngine(Config{}, r)
			if err := e.Run(t.Context(), src); err != nil {
				t.Fatal(err)
			}
			if src.LinkType() != tc.link {
				t.Errorf("link type %v, want %v", src.LinkType(), tc.link)
			}
			checkSample(t, r)
			read, total := src.Progress()
			if total != int64(len(tc.file)) || read != total {
				t.Errorf("progress %d/%d, want %d/%d", read, total, len(tc.file), len(tc.file))
			}
			if tc.nanos {
				if got := r.conns[0].dataTs[ClientToServer][0]; !got.Equal(t0.Add(ms(3) + 7)) {
					t.Errorf("nanosecond timestamp lost: %v", got)
				}
			}
		})
	}
}

// TestPcapNGInterfaces: one pcapng file whose interfaces have different
// link types.
func TestPcapNGInterfaces(t *testing.T) {
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&b, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.NgWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := []linkKind{lkEthernet, lkRaw, lkSLL, lkNullLE}
	for _, k := range kinds[1:] {
		if _, err := w.AddInterface(pcapgo.NgInterface{Name: string(k), LinkType: k.linkType(), SnapLength: 65535}); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range kinds {
		c := newConv(t, "192.0.2.10:"+string(rune('1'+i))+"000", srv)
		for j, r := range append(handshake(c), rec{at: ms(3), ip: c.seg(ClientToServer, "PA", 0, string(k))}) {
			d := frame(t, k, r.ip)
			ci := gopacket.CaptureInfo{Timestamp: t0.Add(ms(10*i + j)), CaptureLength: len(d), Length: len(d), InterfaceIndex: i}
			if err := w.WritePacket(ci, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r, st := mustRun(t, Config{}, b.Bytes())
	if len(r.conns) != len(kinds) {
		t.Fatalf("%d connections, stats %+v", len(r.conns), st)
	}
	for i, k := range kinds {
		if got := string(r.conns[i].data[ClientToServer]); got != string(k) {
			t.Errorf("interface %d: %q, want %q", i, got, k)
		}
	}
	if st.DecodeErrors != 0 || st.UnknownLink != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestTruncatedFile(t *testing.T) {
	file := pcapBytes(t, lkEthernet, sampleRecs(t))
	// Cut inside the last packet's data, right after its record header, and
	// inside its record header.
	for _, cut := range []int{len(file) - 10, len(file) - 60, len(file) - 70} {
		cut := cut
		t.Run("", func(t *testing.T) {
			r, e, err := run(t, Config{}, file[:cut])
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("Run error %v, want io.ErrUnexpectedEOF", err)
			}
			if len(r.conns) != 1 {
				t.Fatalf("%d connections", len(r.conns))
			}
			c := r.conns[0]
			// Everything before the damaged packet was delivered.
			if string(c.data[ClientToServer]) != "USR 1 MD5 I a@b.c\r\n" || string(c.data[ServerToClient]) != sampleS2C {
				t.Errorf("streams %q %q", c.data[ClientToServer], c.data[ServerToClient])
			}
			if !c.closed || c.reason != CloseEOF {
				t.Errorf("closed %v %v", c.closed, c.reason)
			}
			if st := e.Stats(); st.Packets != 5 {
				t.Errorf("packets %d, want 5", st.Packets)
			}
		})
	}
}

func TestBadFiles(t *testing.T) {
	pcapHdr := pcapBytes(t, lkEthernet, nil)
	hugeRecord := append(append([]byte(nil), pcapHdr...), 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f)
	tests := []struct {
		name    string
		file    []byte
		openErr error // from NewFileSource
		runErr  bool  // Run fails
	}{
		{"empty", nil, ErrUnknownFormat, false},
		{"three bytes", []byte{0xd4, 0xc3, 0xb2}, ErrUnknownFormat, false},
		{"text", []byte("hello, this is not a capture at all\n"), ErrUnknownFormat, false},
		{"gzip of text", gzipOf([]byte("not a capture either")), ErrUnknownFormat, false},
		{"broken gzip", []byte{0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6}, nil, false},
		{"pcap header only", pcapHdr, nil, false},
		{"pcap header cut", pcapHdr[:20], io.ErrUnexpectedEOF, false},
		{"pcapng without interface", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0}, nil, false},
		{"huge record length", hugeRecord, nil, true},
		{"garbage after header", append(append([]byte(nil), pcapHdr...), bytes.Repeat([]byte("garbage!"), 50)...), nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := NewFileSource(bytes.NewReader(tc.file))
			if tc.openErr != nil {
				if !errors.Is(err, tc.openErr) {
					t.Fatalf("NewFileSource: %v, want %v", err, tc.openErr)
				}
				return
			}
			if tc.name == "broken gzip" {
				if err == nil {
					t.Fatal("broken gzip accepted")
				}
				return
			}
			if err != nil {
				t.Fatalf("NewFileSource: %v", err)
			}
			e := NewEngine(Config{}, &recorder{})
			err = e.Run(t.Context(), src)
			if (err != nil) != tc.runErr {
				t.Fatalf("Run: %v, want error %v", err, tc.runErr)
			}
		})
	}
}

func gzipOf(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	// The name says pcapng, the content is pcap: the content decides.
	p := filepath.Join(dir, "capture.pcapng")
	file := pcapBytes(t, lkEthernet, sampleRecs(t))
	if err := os.WriteFile(p, file, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if src.Format() != FormatPcap {
		t.Errorf("format %v", src.Format())
	}
	r := &recorder{}
	if err := NewEngine(Config{}, r).Run(t.Context(), src); err != nil {
		t.Fatal(err)
	}
	checkSample(t, r)
	if read, total := src.Progress(); read != int64(len(file)) || total != int64(len(file)) {
		t.Errorf("progress %d/%d", read, total)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(filepath.Join(dir, "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(p, []byte("garbage garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(p); !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), p) {
		t.Errorf("garbage file: %v", err)
	}
}

// TestRunContext: Run stops when its context is done and leaves the
// connections open for CloseAll.
func TestRunContext(t *testing.T) {
	src := &endlessSource{ip: newConv(t, cli, srv)}
	r := &recorder{}
	e := NewEngine(Config{}, r)
	ctx, cancel := context.WithCancel(t.Context())
	src.after = 1000
	src.cancel = cancel
	err := e.Run(ctx, src)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if len(r.conns) != 1 || r.conns[0].closed {
		t.Fatalf("connections %d, closed before CloseAll", len(r.conns))
	}
	if got := len(r.conns[0].data[ClientToServer]); got < 1000 {
		t.Errorf("%d bytes before the cancel", got)
	}
	e.CloseAll(t0.Add(time.Hour))
	if !r.conns[0].closed || r.conns[0].reason != CloseEOF || !r.conns[0].closeTs.Equal(t0.Add(time.Hour)) {
		t.Errorf("after CloseAll: %v %v %v", r.conns[0].closed, r.conns[0].reason, r.conns[0].closeTs)
	}
}

// endlessSource yields one-byte segments of a connection forever; after
// `after` packets it cancels the run's context.
type endlessSource struct {
	ip     *conv
	n      int
	after  int
	cancel func()
	buf    []byte
}

func (s *endlessSource) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	if s.n == s.after && s.cancel != nil {
		s.cancel()
	}
	s.buf = frame(s.ip.t, lkEthernet, s.ip.seg(ClientToServer, "PA", s.n, "x"))
	s.n++
	return s.buf, ciAt(time.Duration(s.n)*time.Microsecond, len(s.buf)), nil
}
func (s *endlessSource) LinkType() layers.LinkType { return layers.LinkTypeEthernet }
func (s *endlessSource) Close() error              { return nil }
