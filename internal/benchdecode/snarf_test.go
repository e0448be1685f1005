package benchdecode

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestParseMsgsnarf(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []SnarfLine
		wantErr string
	}{
		{name: "empty", in: ""},
		{
			name: "client-sent-and-delivered",
			in: "Nov 28 18:28:27 MSN 3 > unknown: hello there\n" +
				"Nov 28 18:28:28 MSN alice@example.com > unknown: hi: how are you?\n",
			want: []SnarfLine{
				{Proto: "MSN", Sender: "3", Recipient: "unknown", Text: []byte("hello there")},
				{Proto: "MSN", Sender: "alice@example.com", Recipient: "unknown", Text: []byte("hi: how are you?")},
			},
		},
		{
			name: "body-over-several-lines-keeps-crlf",
			in:   "Nov 28 18:28:27 MSN 8 > unknown: first\r\nsecond\r\n\r\nthird\nNov 28 18:28:27 MSN 9 > unknown: next\n",
			want: []SnarfLine{
				{Proto: "MSN", Sender: "8", Recipient: "unknown", Text: []byte("first\r\nsecond\r\n\r\nthird")},
				{Proto: "MSN", Sender: "9", Recipient: "unknown", Text: []byte("next")},
			},
		},
		{
			name: "space-padded-day-and-unterminated-last-line",
			in:   "Dec  3 01:02:03 MSN bob@example.net > unknown: tail",
			want: []SnarfLine{{Proto: "MSN", Sender: "bob@example.net", Recipient: "unknown", Text: []byte("tail")}},
		},
		{
			name: "irc-lines",
			in: "Nov 28 18:29:16 IRC *** guest661 (u@host) has joined channel #lobby\n" +
				"Nov 28 18:29:16 IRC bob > #lobby: lorem ipsum\n",
			want: []SnarfLine{
				{Proto: "IRC", Text: []byte("*** guest661 (u@host) has joined channel #lobby")},
				{Proto: "IRC", Sender: "bob", Recipient: "#lobby", Text: []byte("lorem ipsum")},
			},
		},
		{
			name: "unknown-protocol-is-continuation",
			in:   "Nov 28 18:28:27 MSN 3 > unknown: a\r\nNov 28 18:28:27 XMPP x > y: b\n",
			want: []SnarfLine{{Proto: "MSN", Sender: "3", Recipient: "unknown", Text: []byte("a\r\nNov 28 18:28:27 XMPP x > y: b")}},
		},
		{name: "text-before-first-record", in: "msgsnarf: using x.pcap\n", wantErr: "line 1: not a record"},
		{name: "bad-stamp", in: "Nov 28 18-28-27 MSN 3 > unknown: a\n", wantErr: "not a record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []SnarfLine
			err := ParseMsgsnarf(strings.NewReader(tt.in), func(l SnarfLine) error {
				l.Text = bytes.Clone(l.Text)
				got = append(got, l)
				return nil
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d records %q, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.Proto != w.Proto || g.Sender != w.Sender || g.Recipient != w.Recipient || !bytes.Equal(g.Text, w.Text) {
					t.Errorf("record %d = %+q, want %+q", i, g, w)
				}
			}
		})
	}
}

func TestParseMsgsnarfBounds(t *testing.T) {
	long := "Nov 28 18:28:27 MSN 3 > unknown: " + strings.Repeat("x", MaxSnarfRecord+1) + "\n"
	err := ParseMsgsnarf(strings.NewReader(long), func(SnarfLine) error { return nil })
	if !errors.Is(err, ErrRecordTooLong) {
		t.Fatalf("one long line: err = %v, want ErrRecordTooLong", err)
	}
	many := "Nov 28 18:28:27 MSN 3 > unknown: x\n" + strings.Repeat(strings.Repeat("y", 1000)+"\n", MaxSnarfRecord/1000+1)
	err = ParseMsgsnarf(strings.NewReader(many), func(SnarfLine) error { return nil })
	if !errors.Is(err, ErrRecordTooLong) {
		t.Fatalf("many continuation lines: err = %v, want ErrRecordTooLong", err)
	}
	stop := errors.New("stop")
	err = ParseMsgsnarf(strings.NewReader("Nov 28 18:28:27 MSN 3 > unknown: x\n"), func(SnarfLine) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("callback error: err = %v, want it passed on", err)
	}
}

func TestCrossCheck(t *testing.T) {
	gb, err := simplifiedchinese.GBK.NewEncoder().String("你好，今天天气很好。")
	if err != nil {
		t.Fatal(err)
	}
	const (
		sentByClient = `{"kind":"message","from_client":true,"from":"alice@example.com","body":"hello\r\nworld","charset":"UTF-8"}`
		delivered    = `{"kind":"message","from_client":false,"from":"Bob@Example.NET","body":"hi","charset":"UTF-8"}`
		gb2312       = `{"kind":"message","from_client":true,"from":"alice@example.com","body":"你好，今天天气很好。","charset":"gb2312"}`
		typing       = `{"kind":"typing","from_client":true,"from":"alice@example.com","body":"\r\n"}`
	)
	tests := []struct {
		name    string
		events  string
		snarf   string
		want    CheckReport // Missing not compared
		wantErr string
	}{
		{
			name:   "all-found",
			events: strings.Join([]string{sentByClient, delivered, gb2312, typing}, "\n") + "\n",
			snarf: "Nov 28 18:28:27 MSN 12 > unknown: hello\r\nworld\n" +
				"Nov 28 18:28:27 MSN bob@example.net > unknown: hi\n" +
				"Nov 28 18:28:27 MSN 13 > unknown: " + gb + "\n" +
				"Nov 28 18:28:27 IRC bob > #lobby: noise\n",
			want: CheckReport{SnarfMSN: 3, SnarfOther: 1, Matched: 3, Events: map[string]int{"message": 3, "typing": 1}},
		},
		{
			name:   "we-find-more",
			events: strings.Join([]string{sentByClient, delivered, typing}, "\n"),
			snarf:  "Nov 28 18:28:27 MSN bob@example.net > unknown: hi\n",
			want:   CheckReport{SnarfMSN: 1, Matched: 1, Extra: 1, Events: map[string]int{"message": 2, "typing": 1}},
		},
		{
			name:   "text-differs",
			events: delivered,
			snarf:  "Nov 28 18:28:27 MSN bob@example.net > unknown: hi!\n",
			want:   CheckReport{SnarfMSN: 1, MissingCount: 1, Extra: 1, Events: map[string]int{"message": 1}},
		},
		{
			name:   "sender-differs",
			events: delivered,
			snarf:  "Nov 28 18:28:27 MSN carol@example.net > unknown: hi\n",
			want:   CheckReport{SnarfMSN: 1, MissingCount: 1, Extra: 1, Events: map[string]int{"message": 1}},
		},
		{
			name:   "client-sent-is-not-a-delivery",
			events: delivered,
			snarf:  "Nov 28 18:28:27 MSN 5 > unknown: hi\n",
			want:   CheckReport{SnarfMSN: 1, MissingCount: 1, Extra: 1, Events: map[string]int{"message": 1}},
		},
		{
			name:   "each-event-used-once",
			events: delivered,
			snarf:  "Nov 28 18:28:27 MSN bob@example.net > unknown: hi\nNov 28 18:28:28 MSN bob@example.net > unknown: hi\n",
			want:   CheckReport{SnarfMSN: 2, Matched: 1, MissingCount: 1, Events: map[string]int{"message": 1}},
		},
		{
			name:   "gb2312-compared-in-utf8-is-missing",
			events: gb2312,
			snarf:  "Nov 28 18:28:27 MSN 13 > unknown: 你好，今天天气很好。\n",
			want:   CheckReport{SnarfMSN: 1, MissingCount: 1, Extra: 1, Events: map[string]int{"message": 1}},
		},
		{name: "bad-event", events: "{not json\n", wantErr: "event line 1"},
		{name: "bad-msgsnarf", events: delivered, snarf: "garbage\n", wantErr: "not a record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := CrossCheck(strings.NewReader(tt.events), strings.NewReader(tt.snarf))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.SnarfMSN != tt.want.SnarfMSN || rep.SnarfOther != tt.want.SnarfOther || rep.Matched != tt.want.Matched ||
				rep.MissingCount != tt.want.MissingCount || rep.Extra != tt.want.Extra {
				t.Errorf("report %+v, want %+v", rep, tt.want)
			}
			if len(rep.Missing) != min(rep.MissingCount, MaxMissing) {
				t.Errorf("%d missing lines kept, want %d", len(rep.Missing), min(rep.MissingCount, MaxMissing))
			}
			if rep.OK() != (tt.want.MissingCount == 0) {
				t.Errorf("OK() = %v with %d missing", rep.OK(), rep.MissingCount)
			}
			if len(rep.Events) != len(tt.want.Events) {
				t.Errorf("kinds %v, want %v", rep.Events, tt.want.Events)
			}
			for k, n := range tt.want.Events {
				if rep.Events[k] != n {
					t.Errorf("kinds %v, want %v", rep.Events, tt.want.Events)
				}
			}
		})
	}
}

func FuzzParseMsgsnarf(f *testing.F) {
	f.Add([]byte("Nov 28 18:28:27 MSN 3 > unknown: hello\r\nworld\nNov 28 18:28:27 MSN a@b.c > unknown: x\n"))
	f.Add([]byte("Nov 28 18:29:16 IRC *** guest (u@h) has joined channel #l\n"))
	f.Add([]byte("Dec  3 01:02:03 YAHOO a > b"))
	f.Add([]byte("\n\n"))
	f.Add([]byte("Nov 28 18:28:27 MSN  >  : \n\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		lines := bytes.Count(in, []byte("\n")) + 1
		records := 0
		err := ParseMsgsnarf(bytes.NewReader(in), func(l SnarfLine) error {
			records++
			if len(l.Text) > MaxSnarfRecord || len(l.Text) > len(in) {
				t.Fatalf("text of %d bytes from %d bytes of input", len(l.Text), len(in))
			}
			return nil
		})
		if records > lines {
			t.Fatalf("%d records from %d lines", records, lines)
		}
		if err == nil && len(bytes.TrimRight(in, "\n")) > 0 && records == 0 {
			t.Fatalf("no records and no error for %q", in)
		}
		_, _ = CrossCheck(bytes.NewReader(nil), bytes.NewReader(in))
	})
}
