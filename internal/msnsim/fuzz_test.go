package msnsim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzLineReader: any byte stream yields commands within the bounds or an
// error, never a panic, and a command's payload is exactly its declared
// length.
func FuzzLineReader(f *testing.F) {
	for _, s := range []string{
		"VER 1 MSNP8 CVR0\r\n",
		"MSG 4 N 5\r\nhello",
		"MSG Hotmail Hotmail 3\r\nabcUBX a@b.c 1 2\r\n<>",
		"ADL 9 OK\r\nADL 10 15\r\n<ml l=\"1\"></ml>",
		"MSG 1 N 99999999\r\n",
		"MSG 1 N -1\r\n",
		"\r\n\r\n  \r\nOUT\r\n",
		"NOT 2\r\nx",
		strings.Repeat("A", 300),
		"QRY 1 msmsgs@msnmsgr.com 32\r\n0123456789abcdef0123456789abcdef",
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, clientSide bool) {
		const maxLine, maxPayload = 128, 256
		verbs := serverPayloadVerbs
		if clientSide {
			verbs = clientPayloadVerbs
		}
		r := newLineReader(bytes.NewReader(data), maxLine, maxPayload, verbs)
		for i := 0; i < len(data)+1; i++ {
			cmd, err := r.next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, ErrLineTooLong) && !errors.Is(err, ErrProtocol) &&
					!errors.Is(err, ErrPayloadTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(cmd.String()) > maxLine {
				t.Fatalf("line of %d bytes passed a %d-byte bound", len(cmd.String()), maxLine)
			}
			if len(cmd.Payload) > maxPayload {
				t.Fatalf("payload of %d bytes passed a %d-byte bound", len(cmd.Payload), maxPayload)
			}
			if cmd.Verb == "" {
				t.Fatal("empty verb")
			}
		}
		t.Fatal("reader did not terminate")
	})
}

// FuzzServer sends arbitrary bytes to each of the server's listeners after
// a valid prefix; the server must stay up (a panic in a handler kills the
// test process) and keep serving a well-behaved client afterwards.
func FuzzServer(f *testing.F) {
	for _, s := range []string{
		"VER 1 MSNP8 CVR0\r\nCVR 2 x\r\nUSR 3 TWN I a@b.com\r\nUSR 4 TWN S t=1\r\nCHG 5 NLN 0\r\nXFR 6 SB\r\n",
		"VER 1 MSNP15 CVR0\r\nUSR 2 SSO I a@b.com\r\nUSR 3 SSO S t= x\r\nADL 4 40\r\n<ml><d n=\"b.com\"><c n=\"x\" l=\"7\"/></d></ml>",
		"VER 1 MSNP11 CVR0\r\nUSR 2 TWN I a@b.com\r\nUSR 3 TWN S t\r\nUUX 4 10\r\n<Data></Da\r\nSYN 5 0 0\r\n",
		"USR 1 a@b.com 1.2.3\r\nANS 2 a@b.com 1.2.3 4\r\nCAL 3 x@y.z\r\nMSG 4 A 2\r\nhiOUT\r\n",
		"ADL 1 5\r\n<ml/>REA 2 a@b.c x\r\nPRP 3 MFN\r\n",
	} {
		for role := uint8(0); role < 3; role++ {
			f.Add([]byte(s), role)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := NewServer(ServerConfig{MaxLine: 512, MaxPayload: 1024, IdleTimeout: 2 * time.Second}, nil)
	if err := srv.Start(ctx); err != nil {
		f.Fatal(err)
	}
	a := srv.Addrs()
	addrs := []string{a.Dispatch.String(), a.NS.String(), a.SB.String()}
	f.Fuzz(func(t *testing.T, data []byte, role uint8) {
		c, err := net.Dial("tcp", addrs[int(role)%3])
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(data)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
		c.Close()
		// Still serving.
		cl, err := Dial(ctx, ClientConfig{Dispatch: addrs[0], Passport: "probe@example.com", Version: 8, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("server stopped serving: %v", err)
		}
		cl.Close()
	})
}
