package msngen_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"rcds/decoder"
	"rcds/internal/msngen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenConfigs are small configurations whose output digests are pinned.
var goldenConfigs = []struct {
	name string
	opt  msngen.Options
}{
	{"default", msngen.Options{Seed: 1}},
	{"pcapng-vlan-ipv6-noise", msngen.Options{Seed: 2, Sessions: 6, Format: "pcapng", Link: msngen.EthernetVLAN, IPv6: 0.5, Noise: 0.3}},
	{"sll-all-pathologies", msngen.Options{Seed: 3, Sessions: 6, Link: msngen.SLL, Seg: msngen.Segmentation{Flags: msngen.AllSeg, MSS: 100}}},
	{"versions-2-7-13", msngen.Options{Seed: 4, Sessions: 6, Versions: []int{2, 7, 13}, Concurrency: 6}},
	{"script", msngen.Options{Seed: 5, Script: demoScript()}},
}

func digest(t *testing.T, opt msngen.Options) (string, msngen.Result, []byte) {
	t.Helper()
	var buf bytes.Buffer
	res, err := msngen.Generate(&buf, opt, nil)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if int64(buf.Len()) != res.Bytes {
		t.Fatalf("Result.Bytes = %d, wrote %d", res.Bytes, buf.Len())
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:]), res, buf.Bytes()
}

// TestGoldenDigests pins the SHA-256 of small captures: the same Options
// give byte-identical output, today and after a change (rewrite with
// -update only when the output is meant to change).
func TestGoldenDigests(t *testing.T) {
	path := filepath.Join("testdata", "digests.txt")
	var lines []string
	for _, c := range goldenConfigs {
		d, res, _ := digest(t, c.opt)
		d2, _, _ := digest(t, c.opt)
		if d != d2 {
			t.Errorf("%s: two runs differ: %s, %s", c.name, d, d2)
		}
		lines = append(lines, fmt.Sprintf("%s %s packets=%d bytes=%d sessions=%d switchboards=%d events=%d",
			c.name, d, res.Packets, res.Bytes, res.Sessions, res.Switchboards, res.Events))
	}
	got := strings.Join(lines, "\n") + "\n"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("digests changed:\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestSeedChangesOutput(t *testing.T) {
	a, _, _ := digest(t, msngen.Options{Seed: 10})
	b, _, _ := digest(t, msngen.Options{Seed: 11})
	if a == b {
		t.Fatal("seeds 10 and 11 give the same capture")
	}
}

// packetReader opens pcap or pcapng with gopacket's own readers.
func packetReader(t *testing.T, data []byte, format string) (func() ([]byte, gopacket.CaptureInfo, error), layers.LinkType) {
	t.Helper()
	if format == "pcapng" {
		r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("pcapgo.NewNgReader: %v", err)
		}
		return r.ReadPacketData, r.LinkType()
	}
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("pcapgo.NewReader: %v", err)
	}
	return r.ReadPacketData, r.LinkType()
}

// csum is an independent RFC 1071 checksum (16-bit words).
func csum(parts ...[]byte) uint16 {
	var s uint32
	var odd []byte
	for _, p := range parts {
		b := append(odd, p...)
		odd = nil
		for len(b) >= 2 {
			s += uint32(b[0])<<8 | uint32(b[1])
			b = b[2:]
		}
		if len(b) == 1 {
			odd = []byte{b[0]}
		}
	}
	if len(odd) == 1 {
		s += uint32(odd[0]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func pseudo(src, dst []byte, proto byte, l int) []byte {
	p := append(append([]byte{}, src...), dst...)
	if len(src) == 4 {
		return append(p, 0, proto, byte(l>>8), byte(l))
	}
	return append(p, byte(l>>24), byte(l>>16), byte(l>>8), byte(l), 0, 0, 0, proto)
}

type pkt struct {
	ts      time.Time
	src     string
	dst     string
	sport   uint16
	dport   uint16
	seq     uint32
	flags   string
	payload []byte
}

// readPackets parses every packet with gopacket and checks the headers:
// lengths, IPv4 header checksum, TCP and UDP checksums, microsecond
// timestamps that never go back.
func readPackets(t *testing.T, data []byte, format string) ([]pkt, layers.LinkType) {
	t.Helper()
	next, lt := packetReader(t, data, format)
	var out []pkt
	var last time.Time
	for i := 0; ; i++ {
		b, ci, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if ci.Timestamp.Before(last) {
			t.Fatalf("packet %d: time goes back", i)
		}
		if ci.Timestamp.Nanosecond()%1000 != 0 {
			t.Fatalf("packet %d: time %v is not whole microseconds", i, ci.Timestamp)
		}
		last = ci.Timestamp
		p := gopacket.NewPacket(b, lt, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("packet %d: %v", i, el.Error())
		}
		var src, dst []byte
		var l4 []byte
		var proto byte
		if ip4, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			if csum(ip4.Contents) != 0 {
				t.Fatalf("packet %d: bad IPv4 header checksum", i)
			}
			if int(ip4.Length) != len(ip4.Contents)+len(ip4.Payload) {
				t.Fatalf("packet %d: IPv4 length %d, have %d", i, ip4.Length, len(ip4.Contents)+len(ip4.Payload))
			}
			src, dst, l4, proto = ip4.SrcIP.To4(), ip4.DstIP.To4(), ip4.Payload, byte(ip4.Protocol)
		} else if ip6, ok := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			if int(ip6.Length) != len(ip6.Payload) {
				t.Fatalf("packet %d: IPv6 length %d, have %d", i, ip6.Length, len(ip6.Payload))
			}
			src, dst, l4, proto = ip6.SrcIP.To16(), ip6.DstIP.To16(), ip6.Payload, byte(ip6.NextHeader)
		} else {
			t.Fatalf("packet %d: no IP layer", i)
		}
		if csum(pseudo(src, dst, proto, len(l4)), l4) != 0 {
			t.Fatalf("packet %d: bad %d checksum", i, proto)
		}
		q := pkt{ts: ci.Timestamp, src: net.IP(src).String(), dst: net.IP(dst).String()}
		if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			q.sport, q.dport, q.seq, q.payload = uint16(tcp.SrcPort), uint16(tcp.DstPort), tcp.Seq, tcp.Payload
			if tcp.SYN {
				q.flags += "S"
			}
			if tcp.FIN {
				q.flags += "F"
			}
			if tcp.ACK {
				q.flags += "A"
			}
		} else if udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			q.sport, q.dport, q.payload = uint16(udp.SrcPort), uint16(udp.DstPort), udp.Payload
			q.flags = "U"
		} else {
			t.Fatalf("packet %d: neither TCP nor UDP", i)
		}
		out = append(out, q)
	}
	return out, lt
}

// TestCaptureParses reads each golden configuration back with gopacket's
// pcap and pcapng readers: every packet parses, the count and link type
// are right, every checksum is valid, and there is noise when asked.
func TestCaptureParses(t *testing.T) {
	for _, c := range goldenConfigs {
		t.Run(c.name, func(t *testing.T) {
			_, res, data := digest(t, c.opt)
			pkts, lt := readPackets(t, data, c.opt.Format)
			if int64(len(pkts)) != res.Packets {
				t.Errorf("read %d packets, Result.Packets = %d", len(pkts), res.Packets)
			}
			wantLT := layers.LinkTypeEthernet
			if c.opt.Link == msngen.SLL {
				wantLT = layers.LinkTypeLinuxSLL
			}
			if lt != wantLT {
				t.Errorf("link type %v, want %v", lt, wantLT)
			}
			var msn, other, v6 int
			for _, p := range pkts {
				if p.sport == 1863 || p.dport == 1863 {
					msn++
				} else {
					other++
				}
				if strings.Contains(p.src, ":") {
					v6++
				}
			}
			if msn == 0 {
				t.Error("no MSNP packet")
			}
			if (c.opt.Noise > 0) != (other > 0) {
				t.Errorf("noise %v but %d non-MSN packets", c.opt.Noise, other)
			}
			if (c.opt.IPv6 > 0) != (v6 > 0) {
				t.Errorf("ipv6 %v but %d IPv6 packets", c.opt.IPv6, v6)
			}
		})
	}
}

type dirKey struct {
	src, dst     string
	sport, dport uint16
}

// commandEnds splits an MSNP byte stream into commands (lines, and the
// payloads their length announces) and returns the offset after each.
func commandEnds(s []byte) map[int]bool {
	ends := map[int]bool{0: true}
	off := 0
	for off < len(s) {
		i := bytes.Index(s[off:], []byte("\r\n"))
		if i < 0 {
			break
		}
		toks := strings.Fields(string(s[off : off+i]))
		next := off + i + 2
		if len(toks) >= 3 {
			n, err := strconv.Atoi(toks[len(toks)-1])
			switch toks[0] {
			case "MSG", "UUX", "UBX", "ADL", "GCF":
				if err == nil {
					next += n
				}
			case "QRY":
				if err == nil && len(toks) == 4 {
					next += n
				}
			}
		}
		ends[next] = true
		off = next
	}
	return ends
}

// pathologies counts, in a capture, the segmentation pathologies of its
// MSNP connections: commands cut inside (shorter than the MSS), several
// commands in one segment, segments after a hole, retransmissions,
// overlapping segments, and connections without handshake.
func countPathologies(t *testing.T, pkts []pkt, mss int) map[string]int {
	t.Helper()
	type seg struct {
		seq uint32
		n   int
	}
	segs := map[dirKey][]seg{}
	payload := map[dirKey]map[seg][]byte{}
	syn := map[dirKey]bool{}
	var order []dirKey
	for _, p := range pkts {
		if p.flags == "U" || (p.sport != 1863 && p.dport != 1863) {
			continue
		}
		k := dirKey{p.src, p.dst, p.sport, p.dport}
		if strings.Contains(p.flags, "S") {
			syn[k] = true
		}
		if _, ok := segs[k]; !ok {
			order = append(order, k)
			payload[k] = map[seg][]byte{}
		}
		if len(p.payload) > 0 {
			segs[k] = append(segs[k], seg{p.seq, len(p.payload)})
			payload[k][seg{p.seq, len(p.payload)}] = p.payload
		} else if segs[k] == nil {
			segs[k] = []seg{}
		}
	}
	c := map[string]int{}
	for _, k := range order {
		ss := segs[k]
		if len(ss) == 0 {
			continue
		}
		if !syn[k] {
			c["nohandshake"]++
		}
		base := ss[0].seq
		for _, s := range ss {
			if s.seq-base > 1<<31 { // s.seq before base
				base = s.seq
			}
		}
		// Rebuild the stream.
		var stream []byte
		for _, s := range ss {
			off := int(s.seq - base)
			if need := off + s.n; need > len(stream) {
				stream = append(stream, make([]byte, need-len(stream))...)
			}
			copy(stream[off:], payload[k][s])
		}
		ends := commandEnds(stream)
		maxEnd := 0
		seen := map[seg]bool{}
		for _, s := range ss {
			a, b := int(s.seq-base), int(s.seq-base)+s.n
			switch {
			case seen[s]:
				c["retransmit"]++
			case a > maxEnd:
				c["reorder"]++
			case a < maxEnd && b > maxEnd:
				c["overlap"]++
			}
			seen[s] = true
			if !ends[b] && s.n < mss {
				c["split"]++
			}
			for x := max(a, maxEnd) + 1; x < b; x++ {
				if ends[x] {
					c["coalesce"]++
					break
				}
			}
			maxEnd = max(maxEnd, b)
		}
	}
	return c
}

// TestSegmentationOccurs checks in the written packets that each
// pathology happens when asked for and only then.
func TestSegmentationOccurs(t *testing.T) {
	names := []string{"split", "coalesce", "reorder", "retransmit", "overlap", "nohandshake"}
	for _, p := range pathologies {
		t.Run(p.name, func(t *testing.T) {
			opt := msngen.Options{Seed: 42, Sessions: 8, Concurrency: 4, Seg: msngen.Segmentation{Flags: p.f}}
			_, _, data := digest(t, opt)
			pkts, _ := readPackets(t, data, "pcap")
			got := countPathologies(t, pkts, 1460)
			for _, n := range names {
				f, _ := msngen.ParseSegFlags(n)
				want := p.f&f != 0
				// Reordering cuts a one-segment burst in two to swap it:
				// a command cut inside is expected with it.
				if n == "split" && p.f&msngen.Reorder != 0 {
					want = true
				}
				if want && got[n] == 0 {
					t.Errorf("%s asked for but not seen (counts %v)", n, got)
				}
				if !want && got[n] != 0 {
					t.Errorf("%s not asked for but seen %d times (counts %v)", n, got[n], got)
				}
			}
		})
	}
}

// TestScriptGoldenEvents pins the expected events of the demo script (the
// generator's own data) as JSON lines.
func TestScriptGoldenEvents(t *testing.T) {
	var buf bytes.Buffer
	_, err := msngen.Generate(io.Discard, msngen.Options{Seed: 5, Script: demoScript()}, func(e *decoder.Event) {
		buf.Write(decoder.AppendJSON(nil, e))
		buf.WriteByte('\n')
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "script_events.jsonl")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		gl := strings.Split(buf.String(), "\n")
		wl := strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("got %d lines, want %d", len(gl), len(wl))
	}
	// What the script says must be in it, decoded: a sample of kinds.
	for _, s := range []string{
		`"kind":"message"`, `"body":"hi Bob, 你好!"`, `"body":"我们明天见","content_type":"text/plain","charset":"gb2312"`,
		`"kind":"typing"`, `"kind":"file_invite"`, `"kind":"p2p"`, `"kind":"personal_message"`,
		`"body":"working \u003clate\u003e \u0026 tired"`, `"nick":"Bob (away)"`, `"status":"AWY"`,
		`"contact":"dave@example.com"`, `"contact":"erin@example.com"`, `"kind":"logout"`,
	} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("expected events lack %s", s)
		}
	}
}

// TestTargetsChat checks that every target logs in and sends a message.
func TestTargetsChat(t *testing.T) {
	targets := []string{msngen.Passport(3), msngen.Passport(11), "outside@example.org"}
	logins := map[string]int{}
	said := map[string]int{}
	_, err := msngen.Generate(io.Discard, msngen.Options{Seed: 9, Users: 20, Sessions: 5, Targets: targets}, func(e *decoder.Event) {
		switch e.Kind {
		case decoder.KindLogin:
			logins[e.User]++
		case decoder.KindMessage:
			if e.FromClient {
				said[e.From]++
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if logins[tg] == 0 || said[tg] == 0 {
			t.Errorf("target %s: %d logins, %d messages sent", tg, logins[tg], said[tg])
		}
	}
}

// TestSessionsAndSize checks the two ways of saying how much to generate.
func TestSessionsAndSize(t *testing.T) {
	var logins int
	res, err := msngen.Generate(io.Discard, msngen.Options{Seed: 3, Sessions: 17, Concurrency: 5}, func(e *decoder.Event) {
		if e.Kind == decoder.KindLogin {
			logins++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sessions != 17 || logins != 17 {
		t.Errorf("Sessions 17: Result.Sessions %d, login events %d", res.Sessions, logins)
	}
	const target = 3 << 20
	res, err = msngen.Generate(io.Discard, msngen.Options{Seed: 3, TargetBytes: target, Concurrency: 50, Noise: 0.2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes < target || res.Bytes > target+target/4 {
		t.Errorf("TargetBytes %d: wrote %d", target, res.Bytes)
	}
}

// TestNoiseFraction checks that Options.Noise is the fraction of packets
// that are not MSNP.
func TestNoiseFraction(t *testing.T) {
	for _, noise := range []float64{0.1, 0.3, 0.6} {
		_, _, data := digest(t, msngen.Options{Seed: 8, TargetBytes: 2 << 20, Concurrency: 20, Noise: noise})
		pkts, _ := readPackets(t, data, "pcap")
		other := 0
		for _, p := range pkts {
			if p.sport != 1863 && p.dport != 1863 {
				other++
			}
		}
		got := float64(other) / float64(len(pkts))
		if got < noise-0.05 || got > noise+0.05 {
			t.Errorf("Noise %v: %.3f of %d packets are not MSNP", noise, got, len(pkts))
		}
	}
}

// TestConcurrentSessions checks that Concurrency sessions really are open
// at once: the number of NS connections between their SYN and their
// logout comes close to it (groups log in and out one user after another,
// so not all of them are logged in at the same moment).
func TestConcurrentSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("large capture")
	}
	const n = 10000
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		_, err := msngen.Generate(pw, msngen.Options{Seed: 1, Sessions: n, Concurrency: n, Users: 1000, MessagesPerSwitchboard: 2}, nil)
		pw.CloseWithError(err)
		errc <- err
	}()
	r, err := pcapgo.NewReader(bufio.NewReaderSize(pr, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	var eth layers.Ethernet
	var ip layers.IPv4
	var tcp layers.TCP
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip, &tcp)
	parser.IgnoreUnsupported = true
	var decoded []gopacket.LayerType
	open := map[uint64]bool{}
	peak := 0
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := parser.DecodeLayers(data, &decoded); err != nil || len(decoded) < 3 {
			continue
		}
		if tcp.DstPort != 1863 || ip.DstIP[0] != 192 { // client → NS or dispatch
			continue
		}
		k := uint64(binary.BigEndian.Uint32(ip.SrcIP.To4()))<<16 | uint64(tcp.SrcPort)
		switch {
		case tcp.SYN:
			open[k] = true
		case tcp.FIN, len(tcp.Payload) == 5 && string(tcp.Payload) == "OUT\r\n":
			delete(open, k)
		}
		peak = max(peak, len(open))
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if peak < n*8/10 || peak > n {
		t.Errorf("at most %d NS/dispatch connections open at once, want 80%% to 100%% of %d", peak, n)
	}
	t.Logf("peak of open NS/dispatch connections: %d for Concurrency %d", peak, n)
}

func TestOptionErrors(t *testing.T) {
	cases := []msngen.Options{
		{Noise: 0.99},
		{Noise: -1},
		{Versions: []int{1}},
		{Versions: []int{19}},
		{Format: "pcapx"},
		{Seg: msngen.Segmentation{MSS: 4}},
		{Seg: msngen.Segmentation{Chance: 2}},
		{IPv6: 1.5},
		{Sessions: -1},
		{Targets: []string{"not a passport"}},
		{Script: &msngen.Script{Users: []msngen.User{{Passport: "nobody"}}}},
		{Script: &msngen.Script{Actions: []msngen.Action{{Op: 99, User: "a@example.com"}}}},
		{Script: &msngen.Script{Actions: []msngen.Action{{Op: msngen.OpSay, User: "a@example.com", Charset: "koi8-r"}}}},
	}
	for i, o := range cases {
		_, err := msngen.Generate(io.Discard, o, nil)
		if !errors.Is(err, msngen.ErrBadOption) {
			t.Errorf("case %d: error %v, want ErrBadOption", i, err)
		}
	}
}

// TestScriptErrors: actions that do not make sense stop the generation
// with an error naming the problem.
func TestScriptErrors(t *testing.T) {
	users := []msngen.User{{Passport: "a@example.com", Version: 8}, {Passport: "b@example.com"}}
	cases := []struct {
		name    string
		actions []msngen.Action
		want    string
	}{
		{"not logged in", []msngen.Action{{Op: msngen.OpSay, User: "a@example.com", Chat: 1, Text: "x"}}, "no such chat"},
		{"logout first", []msngen.Action{{Op: msngen.OpLogout, User: "a@example.com"}}, "not a logged-in"},
		{"psm on MSNP8", []msngen.Action{{Op: msngen.OpLogin, User: "a@example.com"}, {Op: msngen.OpPSM, User: "a@example.com", Text: "x"}}, "no UUX"},
		{"double login", []msngen.Action{{Op: msngen.OpLogin, User: "b@example.com"}, {Op: msngen.OpLogin, User: "b@example.com"}}, "already logged in"},
		{"non-member says", []msngen.Action{
			{Op: msngen.OpLogin, User: "b@example.com"},
			{Op: msngen.OpOpenChat, User: "b@example.com", Chat: 1, With: []string{"c@example.com"}},
			{Op: msngen.OpSay, User: "d@example.com", Chat: 1, Text: "x"},
		}, "not a member"},
		{"bad status", []msngen.Action{{Op: msngen.OpLogin, User: "b@example.com"}, {Op: msngen.OpStatus, User: "b@example.com", Text: "XYZ"}}, "status"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := msngen.Generate(io.Discard, msngen.Options{Script: &msngen.Script{Users: users, Actions: c.actions}}, nil)
			if !errors.Is(err, msngen.ErrBadOption) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrBadOption mentioning %q", err, c.want)
			}
		})
	}
}

func TestParsers(t *testing.T) {
	sizes := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"100", 100, true}, {"1KiB", 1024, true}, {"1kb", 1000, true}, {"100MiB", 100 << 20, true},
		{"1GiB", 1 << 30, true}, {"1.5G", 3 << 29, true}, {"2GB", 2e9, true}, {" 7 M ", 7 << 20, true},
		{"", 0, false}, {"MiB", 0, false}, {"1TiB", 0, false}, {"-1", 0, false}, {"1e3", 0, false},
	}
	for _, c := range sizes {
		got, err := msngen.ParseSize(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
	segs := []struct {
		in   string
		want msngen.SegFlags
		ok   bool
	}{
		{"", 0, true}, {"none", 0, true}, {"split,coalesce", msngen.Split | msngen.Coalesce, true},
		{"Reorder, retransmit", msngen.Reorder | msngen.Retransmit, true}, {"all", msngen.AllSeg, true},
		{"overlap,nohandshake", msngen.Overlap | msngen.NoHandshake, true}, {"bogus", 0, false},
	}
	for _, c := range segs {
		got, err := msngen.ParseSegFlags(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseSegFlags(%q) = %v, %v", c.in, got, err)
		}
		if c.ok {
			back, err := msngen.ParseSegFlags(got.String())
			if err != nil || back != got {
				t.Errorf("ParseSegFlags(%q.String()) = %v, %v", got, back, err)
			}
		}
	}
	vers := []struct {
		in   string
		want []int
		ok   bool
	}{
		{"8,15", []int{8, 15}, true}, {"MSNP18, 2", []int{18, 2}, true}, {"1", nil, false}, {"8x", nil, false}, {"19", nil, false},
	}
	for _, c := range vers {
		got, err := msngen.ParseVersions(c.in)
		if (err == nil) != c.ok || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("ParseVersions(%q) = %v, %v", c.in, got, err)
		}
	}
	for in, want := range map[string]msngen.LinkType{"ethernet": msngen.Ethernet, "vlan": msngen.EthernetVLAN, "SLL": msngen.SLL} {
		if got, err := msngen.ParseLinkType(in); err != nil || got != want {
			t.Errorf("ParseLinkType(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := msngen.ParseLinkType("token-ring"); !errors.Is(err, msngen.ErrBadOption) {
		t.Errorf("ParseLinkType(token-ring): %v", err)
	}
}

// FuzzParseFlags: the flag parsers take command-line input; they must
// never panic and must agree with their own String forms.
func FuzzParseFlags(f *testing.F) {
	for _, s := range []string{"100MiB", "1.5G", "split,all", "8,15", "MSNP18", "", ",,", "9999999999999999999G", "1e308"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := msngen.ParseSize(s); err == nil && n < 0 {
			t.Errorf("ParseSize(%q) = %d", s, n)
		}
		if fl, err := msngen.ParseSegFlags(s); err == nil {
			if back, err := msngen.ParseSegFlags(fl.String()); err != nil || back != fl {
				t.Errorf("ParseSegFlags round trip of %q: %v, %v", s, back, err)
			}
		}
		if vs, err := msngen.ParseVersions(s); err == nil {
			for _, v := range vs {
				if v < 2 || v > 18 {
					t.Errorf("ParseVersions(%q) gave %d", s, v)
				}
			}
		}
		_, _ = msngen.ParseLinkType(s)
	})
}

// FuzzGenerate: any small options give a capture that parses, the same
// twice, and as many expected events as Result says.
func FuzzGenerate(f *testing.F) {
	f.Add(int64(1), uint8(2), uint8(0), uint8(0), uint16(1460), uint8(8))
	f.Add(int64(7), uint8(3), uint8(63), uint8(2), uint16(9), uint8(18))
	f.Add(int64(-5), uint8(1), uint8(0x15), uint8(1), uint16(100), uint8(2))
	f.Fuzz(func(t *testing.T, seed int64, sessions, seg, link uint8, mss uint16, version uint8) {
		opt := msngen.Options{
			Seed: seed, Sessions: int(sessions%4) + 1, Concurrency: 2,
			Seg:      msngen.Segmentation{Flags: msngen.SegFlags(seg) & msngen.AllSeg, MSS: int(mss%2000) + 8},
			Link:     msngen.LinkType(link % 3),
			Versions: []int{int(version%17) + 2},
			Noise:    0.2,
		}
		var events int
		var a bytes.Buffer
		res, err := msngen.Generate(&a, opt, func(*decoder.Event) { events++ })
		if err != nil {
			t.Fatal(err)
		}
		if events != res.Events || int64(a.Len()) != res.Bytes {
			t.Fatalf("Result %+v, %d events, %d bytes", res, events, a.Len())
		}
		var b bytes.Buffer
		if _, err := msngen.Generate(&b, opt, nil); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("second run differs (err %v)", err)
		}
		pkts, _ := readPackets(t, a.Bytes(), "pcap")
		if int64(len(pkts)) != res.Packets {
			t.Fatalf("read %d packets, Result.Packets %d", len(pkts), res.Packets)
		}
	})
}
