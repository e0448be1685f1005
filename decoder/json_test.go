package decoder

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	ts := time.Date(2005, 5, 6, 7, 8, 9, 123456789, time.UTC)
	cases := []Event{
		{},
		{Kind: KindMessage, Time: ts, Proto: "msnp", Flow: "192.0.2.1:1234-198.51.100.2:1863", Role: RoleSwitchboard,
			Comm: 1<<63 + 5, FromClient: true, User: "a@example.com", From: "a@example.com",
			To: []string{"b@example.com", "c@example.net"}, Body: "hi <b>&</b> \"q\"\r\n\t\x01\u2028\u2029 中文 \xff\xfe end",
			ContentType: "text/plain", Charset: "utf-8", Format: &Format{Font: "MS Shell Dlg", Color: "0", Charset: "0", Pitch: "0"}},
		{Kind: KindTyping, Time: ts.Add(time.Hour), Format: &Format{}},
		{Kind: KindError, Time: time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)), Detail: "msnp: bad\b\f"},
		{Kind: KindPresence, Status: "NLN", Contact: "x@y", Nick: "n\x00ick", To: []string{}},
		{Kind: KindInfo, Client: netip.MustParseAddrPort("[2001:db8::1]:5"), Raw: []byte("x")},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		cases = append(cases, Event{Kind: Kind(b), Body: string(b), Nick: string(b[:len(b)/2]), To: []string{string(b)}})
	}
	for i := range cases {
		want, err := json.Marshal(&cases[i])
		if err != nil {
			t.Fatal(err)
		}
		got := AppendJSON(nil, &cases[i])
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestAppendText(t *testing.T) {
	e := Event{Kind: KindMessage, Time: time.Date(2005, 5, 6, 7, 8, 9, 0, time.UTC), Role: RoleSwitchboard,
		Flow: "192.0.2.1:1234-198.51.100.2:1863", User: "a@example.com", From: "a@example.com",
		To: []string{"b@example.com", "c@example.net"}, Body: "hello\r\nworld", ContentType: "text/plain"}
	got := string(AppendText(nil, &e))
	want := `2005-05-06T07:08:09Z message sb 192.0.2.1:1234-198.51.100.2:1863 user=a@example.com from=a@example.com to=b@example.com,c@example.net type=text/plain body="hello\r\nworld"`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if bytes.ContainsAny(AppendText(nil, &Event{Kind: KindMessage, Body: "a\nb", Nick: "x\ny", From: "a b"}), "\n") {
		t.Fatal("text line contains a newline")
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	e := Event{Kind: KindMessage, Time: time.Now().UTC(), Proto: "msnp", Flow: "192.0.2.1:1234-198.51.100.2:1863",
		Role: RoleSwitchboard, Comm: 42, User: "a@example.com", From: "a@example.com", To: []string{"b@example.com"},
		Body: "hello there, how are you doing today?\r\n", ContentType: "text/plain", Charset: "utf-8",
		Format: &Format{Font: "MS Shell Dlg", Color: "0", Charset: "0", Pitch: "0"}}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], &e)
	}
}
