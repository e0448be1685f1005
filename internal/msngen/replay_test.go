package msngen_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"rcds/decoder"
	"rcds/internal/msngen"
)

// TestConversationReplayOverSockets replays a script's transcript over
// real TCP connections on loopback, as a live simulator would: each
// StepOpen dials a listener, each StepSend is written by the side that
// sends it and must arrive byte for byte at the other, each StepClose ends
// the connection. The events the transcript carries are those Generate
// expects for the same script (Time, Comm and the addresses aside).
func TestConversationReplayOverSockets(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cv, err := msngen.NewConversation(demoScript(), 11)
	if err != nil {
		t.Fatal(err)
	}
	type pair struct{ client, server net.Conn }
	conns := map[*msngen.Conn]*pair{}
	defer func() {
		for _, p := range conns {
			p.client.Close()
			p.server.Close()
		}
	}()
	var replayed []string
	var steps, bytesSent int
	for {
		st, ok := cv.Next()
		if !ok {
			break
		}
		steps++
		switch st.Kind {
		case msngen.StepOpen:
			if _, dup := conns[st.Conn]; dup {
				t.Fatalf("connection %d opened twice", st.Conn.ID)
			}
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			s, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			conns[st.Conn] = &pair{c, s}
		case msngen.StepSend:
			p := conns[st.Conn]
			if p == nil {
				t.Fatalf("send on connection %d before it opened", st.Conn.ID)
			}
			from, to := p.client, p.server
			if !st.FromClient {
				from, to = to, from
			}
			var want []byte
			for _, c := range st.Commands {
				want = append(want, c.Data...)
				for i := range c.Events {
					replayed = append(replayed, eventKey(&c.Events[i]))
				}
			}
			if _, err := from.Write(want); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(want))
			to.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.ReadFull(to, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("connection %d: bytes changed in transit", st.Conn.ID)
			}
			bytesSent += len(want)
		case msngen.StepClose:
			p := conns[st.Conn]
			if p == nil {
				t.Fatalf("close of connection %d before it opened", st.Conn.ID)
			}
			first, second := p.client, p.server
			if !st.FromClient {
				first, second = second, first
			}
			first.Close()
			second.SetReadDeadline(time.Now().Add(10 * time.Second))
			if n, err := second.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
				t.Fatalf("connection %d: after close, read %d bytes, %v", st.Conn.ID, n, err)
			}
			second.Close()
			delete(conns, st.Conn)
		}
	}
	if err := cv.Err(); err != nil {
		t.Fatal(err)
	}
	if len(conns) != 0 {
		t.Errorf("%d connections left open at the end of the transcript", len(conns))
	}
	if cv.Logins() != 2 || cv.Switchboards() != 1 {
		t.Errorf("Logins %d, Switchboards %d; want 2 and 1", cv.Logins(), cv.Switchboards())
	}
	var generated []string
	if _, err := msngen.Generate(io.Discard, msngen.Options{Seed: 5, Script: demoScript()}, func(e *decoder.Event) {
		generated = append(generated, eventKey(e))
	}); err != nil {
		t.Fatal(err)
	}
	replayed, generated = withoutInfo(replayed), withoutInfo(generated)
	if len(replayed) == 0 || len(replayed) != len(generated) {
		t.Fatalf("%d events in the transcript, %d from Generate", len(replayed), len(generated))
	}
	for i := range replayed {
		if replayed[i] != generated[i] {
			t.Fatalf("event %d: transcript %s, Generate %s", i, replayed[i], generated[i])
		}
	}
	t.Logf("replayed %d steps, %d bytes, %d events", steps, bytesSent, len(replayed))
}

// eventKey is an event without what depends on the packets and addresses.
func eventKey(e *decoder.Event) string {
	c := *e
	c.Time = time.Time{}
	c.Comm = 0
	c.Flow = ""
	c.Format = nil // fonts and colours are random details
	if c.Kind == decoder.KindFileInvite || c.Kind == decoder.KindP2P {
		c.Body = "" // cookies, file names and P2P identifiers too
	}
	return string(decoder.AppendJSON(nil, &c))
}

// withoutInfo drops the events of details the script leaves to chance:
// the initial e-mail notification (info) and the personal messages of
// outside contacts at login (UBX).
func withoutInfo(evs []string) []string {
	var out []string
	for _, e := range evs {
		b := []byte(e)
		if bytes.Contains(b, []byte(`"kind":"info"`)) ||
			bytes.Contains(b, []byte(`"kind":"personal_message"`)) && bytes.Contains(b, []byte(`"contact":`)) {
			continue
		}
		out = append(out, e)
	}
	return out
}
