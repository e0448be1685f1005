package msnp

import (
	"errors"
	"testing"
)

func TestParseCommandAndPayloadLength(t *testing.T) {
	const max = 1 << 20
	tests := []struct {
		line    string
		err     error // of parseCommand
		ntok    int
		plen    int // -1: no payload
		plenErr error
	}{
		{line: "VER 1 MSNP8 CVR0", ntok: 4, plen: -1},
		{line: "MSG 5 N 132", ntok: 4, plen: 132},
		{line: "MSG user@example.com Nick 97", ntok: 4, plen: 97},
		{line: "MSG Hotmail Hotmail 0", ntok: 4, plen: 0},
		{line: "MSG 5 N", ntok: 3, plenErr: ErrBadLength},
		{line: "MSG 5 N abc", ntok: 4, plenErr: ErrBadLength},
		{line: "MSG 5 N -12", ntok: 4, plenErr: ErrNegLength},
		{line: "MSG 5 N 2147483648", ntok: 4, plenErr: ErrLengthTooBig},
		{line: "MSG 5 N 99999999999999999999999", ntok: 4, plenErr: ErrLengthTooBig},
		{line: "MSG 5 N 1048577", ntok: 4, plenErr: ErrLengthTooBig},
		{line: "MSG 5 N 1048576", ntok: 4, plen: 1048576},
		{line: "UUX 9 72", ntok: 3, plen: 72},
		{line: "UUX 9 0", ntok: 3, plen: 0},
		{line: "UBX user@example.com 53", ntok: 3, plen: 53},
		{line: "UBX 1:user@example.com 53", ntok: 3, plen: 53},
		{line: "ADL 7 120", ntok: 3, plen: 120},
		{line: "ADL 7 OK", ntok: 3, plen: -1},
		{line: "RML 8 OK", ntok: 3, plen: -1},
		{line: "RML 8 40", ntok: 3, plen: 40},
		{line: "FQY 10 51", ntok: 3, plen: 51},
		{line: "GCF 4 Shields.xml", ntok: 3, plen: -1},
		{line: "GCF 4 Shields.xml 200", ntok: 4, plen: 200},
		{line: "NOT 300", ntok: 2, plen: 300},
		{line: "IPG 12", ntok: 2, plen: 12},
		{line: "QRY 11 PROD0090YUAUV{2B 32", ntok: 4, plen: 32},
		{line: "QRY 11", ntok: 2, plen: -1},
		{line: "UUN 12 user@example.com 3 20", ntok: 5, plen: 20},
		{line: "UBN user@example.com 3 20", ntok: 4, plen: 20},
		{line: "UUM 13 user@example.com 32 1 44", ntok: 6, plen: 44},
		{line: "241 7 107", ntok: 3, plen: 107},
		{line: "911 7", ntok: 2, plen: -1},
		{line: "500 7 x", ntok: 3, plen: -1},
		{line: "241 7 -1", ntok: 3, plenErr: ErrNegLength},
		{line: "PNG", ntok: 1, plen: -1},
		{line: "QNG 50", ntok: 2, plen: -1},
		{line: "CHG 8 NLN 1073791012", ntok: 4, plen: -1},
		{line: "JOI  user@example.com   Nick", ntok: 3, plen: -1},
		{line: "OUT", ntok: 1, plen: -1},
		{line: "ZZZ 1 2 3", ntok: 4, plen: -1},
		{line: "", err: ErrNotCommand},
		{line: "MS", err: ErrNotCommand},
		{line: "MSGX 1", err: ErrNotCommand},
		{line: "msg 1 N 3", err: ErrNotCommand},
		{line: "12A 5", err: ErrNotCommand},
		{line: "Hey there", err: ErrNotCommand},
		{line: "GET / HTTP/1.1", ntok: 3, plen: -1},
		{line: ":server 001 nick :Welcome", err: ErrNotCommand},
		{line: "<stream:stream>", err: ErrNotCommand},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			var c command
			err := parseCommand([]byte(tt.line), &c)
			if !errors.Is(err, tt.err) {
				t.Fatalf("parseCommand error %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if c.n != tt.ntok {
				t.Fatalf("%d tokens, want %d", c.n, tt.ntok)
			}
			for i := 0; i < c.n; i++ {
				if len(c.toks[i]) == 0 {
					t.Fatalf("empty token %d", i)
				}
			}
			n, err := payloadLength(&c, max)
			if !errors.Is(err, tt.plenErr) {
				t.Fatalf("payloadLength error %v, want %v", err, tt.plenErr)
			}
			if err == nil && n != tt.plen {
				t.Fatalf("payload length %d, want %d", n, tt.plen)
			}
		})
	}
}

func TestParseCommandManyTokensKeepsLast(t *testing.T) {
	line := "MSG"
	for i := 0; i < 40; i++ {
		line += " x"
	}
	line += " 17"
	var c command
	if err := parseCommand([]byte(line), &c); err != nil {
		t.Fatal(err)
	}
	if c.n != maxTokens || string(c.last()) != "17" {
		t.Fatalf("n=%d last=%q", c.n, c.last())
	}
}

func TestDetect(t *testing.T) {
	p := newTestProtocol()
	tests := []struct {
		name  string
		first string
		want  string
	}{
		{"ver", "VER 1 MSNP8 CVR0\r\n", "yes"},
		{"ver-lf", "VER 1 MSNP15 MSNP14 CVR0\n", "yes"},
		{"sb-usr", "USR 93 user@example.com 4242424242.11111111.3333333\r\n", "yes"},
		{"sb-usr-ok", "USR 93 OK user@example.com Nick\r\n", "yes"},
		{"ns-usr-twn", "USR 3 TWN I user@example.com\r\n", "yes"},
		{"ans", "ANS 89 user@example.com 1234567890.12345 55555555\r\n", "yes"},
		{"client-msg", "MSG 26 U 97\r\nMIME-Version: 1.0\r\n", "yes"},
		{"server-msg", "MSG user@example.com Nick 97\r\nMIME", "yes"},
		{"hotmail-msg", "MSG Hotmail Hotmail 500\r\n", "yes"},
		{"nln", "NLN NLN user@example.com Nick 0\r\n", "yes"},
		{"nln18", "NLN NLN 1:user@example.com Nick 2788999228:48\r\n", "yes"},
		{"joi", "JOI user@example.com Nick\r\n", "yes"},
		{"iro", "IRO 1 1 1 user@example.com Nick\r\n", "yes"},
		{"rng", "RNG 1 192.0.2.1:1863 CKI 1.2 user@example.com Nick\r\n", "yes"},
		{"png", "PNG\r\n", "yes"},
		{"qng", "QNG 42\r\n", "yes"},
		{"mid-payload-then-cmd", "tail of a body\r\nmore\r\nQNG 45\r\n", "yes"},
		{"partial", "MSG 26 U", "more"},
		{"empty", "", "more"},
		{"http", "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: x\r\nAccept: */*\r\n\r\n", "more"},
		{"irc-join", "JOIN #chan\r\nNICK someone\r\nUSER a b c :d\r\nPING :x\r\n", "more"},
		{"irc-many", repeat("PRIVMSG #c :hello\r\n", 20), "no"},
		{"xmpp", "<?xml version='1.0'?><stream:stream to='example.com'>", "more"},
		{"binary", repeat("\x16\x03\x01\x02\x00", 1000), "no"},
		{"bad-msg-shape", "MSG 5 X 10\r\n", "more"},
		{"smtp", "220 mail.example.com ESMTP\r\nEHLO x\r\n", "more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := p.Detect(0, []byte(tt.first))
			got := map[uint8]string{0: "more", 1: "no", 2: "yes"}[uint8(v)]
			if got != tt.want {
				t.Fatalf("Detect = %s, want %s", got, tt.want)
			}
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}
