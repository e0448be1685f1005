package msnp

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"rcds/capture"
	"rcds/decoder"
)

// transcripts are whole connections used by the framing tests: a login
// with payload commands in both directions and a switchboard chat.
func transcripts() [][]step {
	ns := []step{
		C("VER 1 MSNP15 MSNP14 CVR0\n"), S("VER 1 MSNP15\n"),
		C("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 8.5.1302 msmsgs " + alice + "\n"),
		C("USR 3 SSO I " + alice + "\n"), S("USR 3 SSO S MBI_KEY_OLD abcdef==\n"),
		C("USR 4 SSO S t=tick abc\n"), S("USR 4 OK " + alice + " 1 0\n"),
		S(msg("MSG Hotmail Hotmail", "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\nLoginTime: 1\r\n\r\n")),
		C(payloadCmd("ADL 5", `<ml l="1"><d n="example.net"><c n="bob" l="3" t="1"/></d></ml>`)), S("ADL 5 OK\n"),
		C("PRP 6 MFN Alice%20%E4%B8%AD%E6%96%87\n"), S("PRP 6 MFN Alice%20%E4%B8%AD%E6%96%87\n"),
		C("CHG 7 NLN 2788999228:48 0\n"), S("CHG 7 NLN 2788999228:48 0\n"),
		S("ILN 7 NLN " + bob + " 1 Bob 2788999228:48 0\n"),
		C(payloadCmd("UUX 8", "<Data><PSM>中文 psm</PSM><CurrentMedia></CurrentMedia></Data>")), S("UUX 8 0\n"),
		S(payloadCmd("UBX "+bob+" 1", "<Data><PSM>bob psm</PSM></Data>")),
		S(payloadCmd("241 9", "<ml><d n=\"x\"><c n=\"y\"/></d></ml>")),
		C(payloadCmd("QRY 10 PROD0114ES4Z%Q5W", "0123456789abcdef0123456789abcdef")), S("QRY 10\n"),
		S(payloadCmd("NOT", "<NOTIFICATION/>")),
		C("XFR 11 SB\n"), S("XFR 11 SB 198.51.100.41:1863 CKI 777777.1234500000.40404 U messenger.msn.com 1\n"),
		C("PNG\n"), S("QNG 44\n"),
		S("RNG 1 198.51.100.40:1863 CKI 1.2 " + carol + " Carol U messenger.msn.com 1\n"),
		C("OUT\n"),
	}
	sb := []step{
		C("USR 1 " + alice + " 777777.1234500000.40404\n"), S("USR 1 OK " + alice + " Alice\n"),
		C("CAL 2 " + bob + "\n"), S("CAL 2 RINGING 1\n"), S("JOI " + bob + " Bob\n"),
		C(msg("MSG 3 U", typing(alice))),
		C(msg("MSG 4 N", mimeText+"hello 中文 \r\nline two")),
		S(msg("MSG "+bob+" Bob", typing(bob))),
		S(msg("MSG "+bob+" Bob", "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n\xc4\xe3\xba\xc3")),
		S(msg("MSG "+bob+" Bob", "MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: "+alice+"\r\n\r\n\x00\x00\r\n\n\x00MSG 1 N 5\r\n")),
		C(msg("MSG 5 D", "MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: "+bob+"\r\n\r\n"+string(bytes.Repeat([]byte{0, '\n', 'A'}, 400)))),
		S("BYE " + bob + "\n"), C("OUT\n"),
	}
	return [][]step{ns, sb}
}

// segments merges consecutive steps of one direction (several commands in
// one segment).
func segments(steps []step) []step {
	var out []step
	for _, s := range steps {
		if n := len(out); n > 0 && out[n-1].dir == s.dir {
			out[n-1].data += s.data
			continue
		}
		out = append(out, s)
	}
	return out
}

// decodeChunks feeds segs, each cut into the chunks cut(i, seg) returns, all
// at one timestamp, and returns the events as JSON lines.
func decodeChunks(segs []step, cut func(i int, s string) []string) []string {
	p := newTestProtocol()
	r := &recorder{}
	c := p.NewConn(testID, r)
	for i, s := range segs {
		for _, part := range cut(i, s.data) {
			c.Data(s.dir, []byte(part), t0)
		}
	}
	c.Close(capture.CloseFIN, t0)
	var lines []string
	for _, e := range r.events {
		lines = append(lines, string(decoder.AppendJSON(nil, &e))+" raw="+string(e.Raw))
	}
	return lines
}

func whole(_ int, s string) []string { return []string{s} }

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: event %d\n got %s\nwant %s", what, i, got[i], want[i])
		}
	}
}

func TestFramingSplitAtEveryOffset(t *testing.T) {
	for ti, tr := range transcripts() {
		segs := segments(tr)
		want := decodeChunks(segs, whole)
		if len(want) < 5 {
			t.Fatalf("transcript %d: only %d events", ti, len(want))
		}
		for _, e := range want {
			if bytes.Contains([]byte(e), []byte(`"kind":"error"`)) {
				t.Fatalf("transcript %d: error event %s", ti, e)
			}
		}
		// One step per Data call (no coalescing) gives the same events.
		equalLines(t, "per step", decodeChunks(tr, whole), want)
		// Byte by byte.
		equalLines(t, "byte by byte", decodeChunks(segs, func(_ int, s string) []string {
			out := make([]string, len(s))
			for i := 0; i < len(s); i++ {
				out[i] = s[i : i+1]
			}
			return out
		}), want)
		// Every segment cut in two at every offset.
		for si, seg := range segs {
			for k := 1; k < len(seg.data); k++ {
				got := decodeChunks(segs, func(i int, s string) []string {
					if i != si {
						return []string{s}
					}
					return []string{s[:k], s[k:]}
				})
				equalLines(t, "split", got, want)
			}
		}
		// Random chunks.
		rng := rand.New(rand.NewPCG(uint64(ti), 7))
		for range 200 {
			got := decodeChunks(segs, func(_ int, s string) []string {
				var out []string
				for len(s) > 0 {
					n := 1 + rng.IntN(min(len(s), 64))
					out = append(out, s[:n])
					s = s[n:]
				}
				return out
			})
			equalLines(t, "random", got, want)
		}
	}
}

// TestTimeIsCompletingPacket: an event's time is that of the Data call that
// completed the command.
func TestTimeIsCompletingPacket(t *testing.T) {
	p := newTestProtocol()
	r := &recorder{}
	c := p.NewConn(testID, r)
	m := msg("MSG "+bob+" Bob", mimeText+"split")
	c.Data(capture.ServerToClient, []byte(m[:20]), t0.Add(1*time.Second))
	c.Data(capture.ServerToClient, []byte(m[20:]), t0.Add(2*time.Second))
	c.Close(capture.CloseEOF, t0.Add(3*time.Second))
	got := r.ofKind(decoder.KindMessage)
	if len(got) != 1 || !got[0].Time.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("messages %+v", got)
	}
}

func BenchmarkDecode(b *testing.B) {
	// An in-memory switchboard transcript of 100 messages in each direction
	// plus typing notifications, fed as one Data call per command.
	var steps []step
	steps = append(steps, C("USR 1 "+alice+" 1.2\n"), S("USR 1 OK "+alice+" Alice\n"),
		C("CAL 2 "+bob+"\n"), S("CAL 2 RINGING 1\n"), S("JOI "+bob+" Bob\n"))
	for i := 0; i < 100; i++ {
		steps = append(steps,
			C(msg("MSG "+itoa(i+3)+" U", typing(alice))),
			C(msg("MSG "+itoa(i+3)+" N", mimeText+"hello there, how are you doing today? 中文")),
			S(msg("MSG "+bob+" Bob", typing(bob))),
			S(msg("MSG "+bob+" Bob", mimeText+"fine thanks, and you? some more text here")))
	}
	var total int64
	for _, s := range steps {
		total += int64(len(s.data))
	}
	datas := make([][]byte, len(steps))
	for i, s := range steps {
		datas[i] = []byte(s.data)
	}
	p := newTestProtocol()
	var n int
	emit := decoder.EmitterFunc(func(*decoder.Event) { n++ })
	b.SetBytes(total)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := capture.ConnID{Client: netip.AddrPortFrom(clientAP.Addr(), uint16(i)), Server: serverAP, Start: t0}
		c := p.NewConn(id, emit)
		for j, s := range steps {
			c.Data(s.dir, datas[j], t0)
		}
		c.Close(capture.CloseFIN, t0)
	}
	if n == 0 {
		b.Fatal("no events")
	}
}
