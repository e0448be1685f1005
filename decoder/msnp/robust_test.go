package msnp

import (
	"errors"
	"strings"
	"testing"
	"time"

	"rcds/capture"
	"rcds/decoder"
)

// TestBadInput: each hostile record gives one error event naming the
// problem (never the bytes), the message before it is still reported, and
// the valid traffic after it is decoded again.
func TestBadInput(t *testing.T) {
	before := msg("MSG "+bob+" Bob", mimeText+"before")
	after := msg("MSG "+bob+" Bob", mimeText+"after")
	secret := "SECRET-CHAT-TEXT"
	tests := []struct {
		name   string
		bad    string
		detail error
		after  bool // the message after the bad record is decoded
	}{
		{"2GB-length", "MSG " + bob + " Bob 2147483648\r\n" + secret + "\r\n", ErrLengthTooBig, true},
		{"huge-number", "MSG " + bob + " Bob 184467440737095516160000\r\n", ErrLengthTooBig, true},
		{"non-numeric-length", "MSG " + bob + " Bob 12x\r\nMIME-Version: 1.0\r\n\r\n" + secret + "\r\n", ErrBadLength, true},
		{"negative-length", "MSG " + bob + " Bob -20\r\n" + secret + "\r\n", ErrNegLength, true},
		{"negative-uux", "UUX 5 -1\r\n", ErrNegLength, true},
		{"missing-length", "MSG " + bob + " Bob\r\n", ErrBadLength, true},
		{"1MB-line-no-crlf", "MSG " + strings.Repeat("A", 1<<20) + secret + "\r\n", ErrLineTooLong, true},
		{"1MB-garbage-no-crlf", strings.Repeat("A", 1<<20) + secret + "\r\n", ErrNotCommand, true},
		{"1MB-line-no-crlf-then-lf", strings.Repeat("MSG ", 1<<18) + "\n", ErrLineTooLong, true},
		{"garbage-line", "\x00\x01\x02garbage " + secret + "\r\n", ErrNotCommand, true},
		{"http-on-1863", "GET /gateway/gateway.dll HTTP/1.1\r\nHost: x\r\n\r\n", ErrNotCommand, true},
		{"truncated-payload", "MSG " + bob + " Bob 500\r\nMIME-Version: 1.0\r\n" + secret, ErrTruncated, false},
		{"truncated-line", "MSG " + bob + " Bo", ErrTruncated, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := []step{S(before), S(tt.bad), S(after)}
			if !tt.after {
				steps = steps[:2]
			}
			p := newTestProtocol()
			r := feed(t, p, testID, steps, capture.CloseEOF)
			msgs := r.ofKind(decoder.KindMessage)
			errs := r.ofKind(decoder.KindError)
			if len(msgs) == 0 || msgs[0].Body != "before" {
				t.Fatalf("message before the bad record lost: %v", r.kinds())
			}
			wantMsgs := 1
			if tt.after {
				wantMsgs = 2
				if len(msgs) < 2 || msgs[1].Body != "after" {
					t.Fatalf("message after the bad record lost: %v", r.kinds())
				}
			}
			if len(msgs) != wantMsgs {
				t.Fatalf("%d messages, want %d (%v)", len(msgs), wantMsgs, r.kinds())
			}
			if len(errs) != 1 {
				t.Fatalf("%d error events, want 1 (%v)", len(errs), r.kinds())
			}
			if errs[0].Detail != tt.detail.Error() {
				t.Fatalf("detail %q, want %q", errs[0].Detail, tt.detail)
			}
			for _, e := range r.events {
				if strings.Contains(string(decoder.AppendJSON(nil, &e)), secret) {
					t.Fatalf("event leaks the bad record's bytes: %s", decoder.AppendText(nil, &e))
				}
			}
			if p.Stats().Errors == 0 {
				t.Fatal("error not counted")
			}
		})
	}
}

// TestHugeLineBoundedMemory: a long line without a line end is dropped
// without growing the buffer past the bound, even when fed in small pieces.
func TestHugeLineBoundedMemory(t *testing.T) {
	p := New(nil, Options{MaxLineLength: 1024})
	r := &recorder{}
	c := p.NewConn(testID, r).(*conn)
	c.Data(capture.ServerToClient, []byte(crlf(msg("MSG "+bob+" Bob", mimeText+"x"))), t0)
	chunk := []byte(strings.Repeat("B", 100))
	maxCap := 0
	for i := 0; i < 20000; i++ { // 2 MB
		c.Data(capture.ServerToClient, chunk, t0)
		maxCap = max(maxCap, cap(c.fr[capture.ServerToClient].buf))
	}
	if maxCap > 4096 {
		t.Fatalf("buffer grew to %d bytes", maxCap)
	}
	c.Data(capture.ServerToClient, []byte("\r\n"+msg("MSG "+bob+" Bob", mimeText+"y")), t0)
	c.Close(capture.CloseEOF, t0)
	if got := r.kinds(); len(got) != 4 || got[2] != decoder.KindError || got[3] != decoder.KindMessage {
		t.Fatalf("events %v", got)
	}
	if s := p.Stats(); s.SkippedBytes < 2_000_000 {
		t.Fatalf("skipped %d bytes", s.SkippedBytes)
	}
}

// TestHugePayloadBounded: a declared payload above MaxPayload is refused
// before anything is buffered.
func TestHugePayloadBounded(t *testing.T) {
	const maxLine = 2048
	p := New(nil, Options{MaxPayload: 1000, MaxLineLength: maxLine})
	r := &recorder{}
	c := p.NewConn(testID, r).(*conn)
	c.Data(capture.ServerToClient, []byte("MSG "+bob+" Bob 1001\r\n"), t0)
	for range 100 {
		c.Data(capture.ServerToClient, []byte(strings.Repeat("z", 500)), t0)
		// Only a partial line (bounded by MaxLineLength) may be kept.
		if n := cap(c.fr[capture.ServerToClient].buf); n > 2*maxLine {
			t.Fatalf("buffered %d bytes", n)
		}
	}
	c.Close(capture.CloseEOF, t0)
	if got := r.kinds(); len(got) != 1 || got[0] != decoder.KindError {
		t.Fatalf("events %v", got)
	}
}

func TestGaps(t *testing.T) {
	m1 := msg("MSG "+bob+" Bob", mimeText+"one")
	m2 := msg("MSG "+bob+" Bob", mimeText+"two is longer")
	m3 := msg("MSG "+bob+" Bob", mimeText+"three")
	tests := []struct {
		name   string
		run    func(c decoder.ConnDecoder)
		bodies []string
		errs   int
		detail error
	}{
		{
			name: "gap-inside-payload-known-size",
			run: func(c decoder.ConnDecoder) {
				dir := capture.ServerToClient
				c.Data(dir, []byte(m1), t0)
				c.Data(dir, []byte(m2[:40]), t0)
				c.Gap(dir, 10, t0) // snaplen cut inside the payload
				c.Data(dir, []byte(m2[50:]), t0)
				c.Data(dir, []byte(m3), t0)
			},
			bodies: []string{"one", "three"}, errs: 1, detail: ErrPayloadDamage,
		},
		{
			name: "gap-covering-the-payload-rest-exactly",
			run: func(c decoder.ConnDecoder) {
				dir := capture.ServerToClient
				c.Data(dir, []byte(m1), t0)
				c.Data(dir, []byte(m2[:40]), t0)
				c.Gap(dir, len(m2)-40, t0)
				c.Data(dir, []byte(m3), t0)
			},
			bodies: []string{"one", "three"}, errs: 1, detail: ErrPayloadDamage,
		},
		{
			name: "gap-unknown-size-resync",
			run: func(c decoder.ConnDecoder) {
				dir := capture.ServerToClient
				c.Data(dir, []byte(m1), t0)
				c.Data(dir, []byte(m2[:40]), t0)
				c.Gap(dir, -1, t0)
				c.Data(dir, []byte(m2[60:]), t0)
				c.Data(dir, []byte(m3), t0)
			},
			bodies: []string{"one", "three"}, errs: 1, detail: ErrGap,
		},
		{
			name: "gap-between-commands",
			run: func(c decoder.ConnDecoder) {
				dir := capture.ServerToClient
				c.Data(dir, []byte(m1), t0)
				c.Gap(dir, len(m2), t0)
				c.Data(dir, []byte(m3), t0)
			},
			bodies: []string{"one", "three"}, errs: 1, detail: ErrGap,
		},
		{
			name: "gap-larger-than-payload-rest",
			run: func(c decoder.ConnDecoder) {
				dir := capture.ServerToClient
				c.Data(dir, []byte(m1), t0)
				c.Data(dir, []byte(m2[:40]), t0)
				c.Gap(dir, len(m2), t0)
				c.Data(dir, []byte(m3[5:]), t0) // mid-line after the gap
				c.Data(dir, []byte(m3), t0)
			},
			bodies: []string{"one", "three"}, errs: 1, detail: ErrGap,
		},
		{
			name: "repeated-gaps-one-error",
			run: func(c decoder.ConnDecoder) {
				dir := capture.ServerToClient
				c.Data(dir, []byte(m1), t0)
				for i := 0; i < 50; i++ {
					c.Gap(dir, -1, t0)
					c.Data(dir, []byte("junk"), t0)
				}
				c.Data(dir, []byte("\r\n"+m3), t0)
			},
			bodies: []string{"one", "three"}, errs: 1, detail: ErrGap,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			c := newTestProtocol().NewConn(testID, r)
			tt.run(c)
			c.Close(capture.CloseEOF, t0.Add(time.Second))
			var bodies []string
			for _, m := range r.ofKind(decoder.KindMessage) {
				bodies = append(bodies, m.Body)
			}
			if strings.Join(bodies, "|") != strings.Join(tt.bodies, "|") {
				t.Fatalf("bodies %q, want %q", bodies, tt.bodies)
			}
			errs := r.ofKind(decoder.KindError)
			if len(errs) != tt.errs {
				t.Fatalf("%d errors, want %d", len(errs), tt.errs)
			}
			if !errors.Is(errors.New(errs[0].Detail), tt.detail) && errs[0].Detail != tt.detail.Error() {
				t.Fatalf("detail %q, want %q", errs[0].Detail, tt.detail)
			}
		})
	}
}
