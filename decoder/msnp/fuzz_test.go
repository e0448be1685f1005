package msnp

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"rcds/capture"
	"rcds/decoder"
)

// fuzzSeeds are transcripts and hostile inputs shared by the fuzz targets.
func fuzzSeeds() []string {
	var seeds []string
	for _, tr := range transcripts() {
		var c, s strings.Builder
		for _, st := range tr {
			if st.dir == capture.ClientToServer {
				c.WriteString(st.data)
			} else {
				s.WriteString(st.data)
			}
		}
		seeds = append(seeds, c.String(), s.String())
	}
	return append(seeds,
		"MSG a@b.c N 2147483648\r\nxx\r\n",
		"MSG 1 N -5\r\nMSG 1 N abc\r\n",
		"UUX 1 3\r\nabcPNG\r\n",
		"241 5 10\r\n0123456789OUT\n",
		"\r\n\n\r\nMSG 5 N 0\r\n",
		strings.Repeat("A", 5000)+"\nMSG 5 N 3\nabc",
		"tail of a body\r\nMSG x@y.z Nick 5\r\nhello",
		// Regression (found by FuzzFramer): a line that cannot be a command
		// must give the same events whether it arrives whole or in pieces.
		strings.Repeat("0", 40)+"MSG 0 A 1 \n00000",
	)
}

// decodeAll feeds data to both directions of a new connection in chunks
// chosen by seed (0: whole) and returns the events as JSON lines.
func decodeAll(p *Protocol, data []byte, seed uint64) ([]string, *conn) {
	r := &recorder{}
	c := p.NewConn(testID, r).(*conn)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for _, dir := range []capture.Dir{capture.ServerToClient, capture.ClientToServer} {
		b := data
		for len(b) > 0 {
			n := len(b)
			if seed != 0 {
				n = 1 + rng.IntN(min(len(b), 97))
			}
			c.Data(dir, b[:n], t0)
			b = b[n:]
		}
	}
	c.Close(capture.CloseFIN, t0)
	var out []string
	for _, e := range r.events {
		out = append(out, string(decoder.AppendJSON(nil, &e)))
	}
	return out, c
}

// FuzzFramer: any byte stream, in any chunking, decodes without panic, in
// bounded memory, to the same events as when fed whole, and every event
// renders as valid JSON with valid UTF-8.
func FuzzFramer(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add([]byte(s), uint64(i+1))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		if seed == 0 {
			seed = 1
		}
		opt := Options{MaxLineLength: 512, MaxPayload: 1024}
		want, _ := decodeAll(New(nil, opt), data, 0)
		got, c := decodeAll(New(nil, opt), data, seed)
		if len(got) != len(want) {
			t.Fatalf("chunked: %d events, whole: %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("event %d differs:\n chunked %s\n   whole %s", i, got[i], want[i])
			}
			if !utf8.ValidString(got[i]) {
				t.Fatalf("invalid UTF-8 in %q", got[i])
			}
		}
		for d := range c.fr {
			if n := cap(c.fr[d].buf); n > 4*1024+1024 {
				t.Fatalf("buffer capacity %d", n)
			}
		}
	})
}

// FuzzCommand: the command-line parser never panics, its tokens are
// non-empty and space-free, and payload lengths respect the bound.
func FuzzCommand(f *testing.F) {
	for _, s := range fuzzSeeds() {
		for _, line := range strings.Split(s, "\n") {
			f.Add([]byte(strings.TrimSuffix(line, "\r")))
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var c command
		if err := parseCommand(line, &c); err != nil {
			return
		}
		if c.n == 0 || c.n > maxTokens {
			t.Fatalf("%d tokens", c.n)
		}
		for i := 0; i < c.n; i++ {
			if len(c.toks[i]) == 0 || bytes.IndexByte(c.toks[i], ' ') >= 0 {
				t.Fatalf("bad token %q", c.toks[i])
			}
		}
		n, err := payloadLength(&c, 1<<20)
		if err == nil && (n < -1 || n > 1<<20) {
			t.Fatalf("payload length %d", n)
		}
		_ = signature(&c)
		_ = lineSide(&c)
		_ = knownVerb(c.verb())
		_ = passportBytes(c.last())
		_ = findCommand(line, &c, 1<<20)
	})
}

// FuzzMIME: the MIME parser never panics, the body is a suffix of the
// payload, and every decoded string is valid UTF-8.
func FuzzMIME(f *testing.F) {
	f.Add([]byte(mimeText + "hello"))
	f.Add([]byte(typing(alice)))
	f.Add([]byte("Content-Type: text/plain; charset=gb2312\r\n\r\n\xc4\xe3\xba\xc3"))
	f.Add([]byte("Content-Type: text/plain; charset=big5\r\n\r\n\xa7\x41\xff"))
	f.Add([]byte("Content-Type: text/plain; charset=\"utf-16\"\r\nX-MMS-IM-Format: FN=%E4%B8%AD%; EF=BIU; CO=%zz\r\n\r\nx"))
	f.Add([]byte("no headers at all"))
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte("Content-Type: ;;;=;charset=;\n\nbody"))
	f.Fuzz(func(t *testing.T, p []byte) {
		var m mimeMessage
		parseMIME(p, &m)
		if !bytes.HasSuffix(p, m.body) {
			t.Fatal("body is not a suffix of the payload")
		}
		s, _ := decodeBody(m.body, m.charset)
		if !utf8.ValidString(s) {
			t.Fatalf("decoded body is not UTF-8: %q", s)
		}
		if ct := contentTypeString(m.contentType); strings.ToLower(ct) != ct {
			t.Fatalf("content type not lower case: %q", ct)
		}
		fm := parseFormat(m.format)
		for _, v := range []string{fm.Font, fm.Effects, fm.Color, fm.Charset, fm.Pitch, urlDecode(p), charsetString(m.charset)} {
			if !utf8.ValidString(v) {
				t.Fatalf("not UTF-8: %q", v)
			}
		}
		if psm, ok := personalMessage(p); ok && !utf8.ValidString(psm) {
			t.Fatalf("PSM not UTF-8: %q", psm)
		}
		forEachADLContact(p, func(c string) {
			if !utf8.ValidString(c) {
				t.Fatalf("contact not UTF-8: %q", c)
			}
		})
	})
}
