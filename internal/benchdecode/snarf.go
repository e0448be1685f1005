package benchdecode

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
)

// MaxSnarfRecord bounds one msgsnarf record (header line and continuation
// lines) and one JSON event line; longer ones are an error.
const MaxSnarfRecord = 4 << 20

// ErrRecordTooLong is returned for a record or line longer than
// MaxSnarfRecord.
var ErrRecordTooLong = errors.New("record too long")

// SnarfLine is one chat line printed by dsniff's msgsnarf:
//
//	Mon DD HH:MM:SS PROTO SENDER > RECIPIENT: TEXT
//
// The timestamp is msgsnarf's wall clock, not packet time, and is dropped.
// TEXT is the message body exactly as on the wire (in its charset, CRLFs
// kept), so it may continue over several output lines.
type SnarfLine struct {
	Proto     string // "MSN", "IRC", "AIM", "ICQ", "YAHOO"
	Sender    string // MSN: the passport of a delivered message, or the transaction ID of one the client sent
	Recipient string // MSN: always "unknown" in dsniff 2.4
	Text      []byte
}

// ParseMsgsnarf reads msgsnarf's standard output and calls fn for each
// record, in order. A line that does not start a record continues the text
// of the previous one (a body holding line breaks); text before the first
// record is an error. fn must not keep the Text slice after it returns.
func ParseMsgsnarf(r io.Reader, fn func(SnarfLine) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		cur     SnarfLine
		text    []byte
		started bool
		lineNo  int
	)
	flush := func() error {
		if !started {
			return nil
		}
		cur.Text = text
		return fn(cur)
	}
	for {
		line, err := readLine(br)
		if len(line) > 0 || err == nil {
			lineNo++
			if p, ok := parseSnarfHeader(line); ok {
				if ferr := flush(); ferr != nil {
					return ferr
				}
				cur, started = p, true
				text = append(text[:0], p.Text...)
			} else {
				if !started {
					return fmt.Errorf("benchdecode: msgsnarf output line %d: not a record", lineNo)
				}
				if len(text)+1+len(line) > MaxSnarfRecord {
					return fmt.Errorf("benchdecode: msgsnarf output line %d: %w", lineNo, ErrRecordTooLong)
				}
				text = append(append(text, '\n'), line...)
			}
		}
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			return fmt.Errorf("benchdecode: msgsnarf output line %d: %w", lineNo+1, err)
		}
	}
}

// readLine returns the next line without its "\n"; it returns io.EOF with
// the last, unterminated line.
func readLine(br *bufio.Reader) ([]byte, error) {
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(long)+len(chunk) > MaxSnarfRecord {
				return nil, ErrRecordTooLong
			}
			long = append(long, chunk...)
			continue
		}
		if long != nil {
			chunk = append(long, chunk...)
		}
		if len(chunk) > MaxSnarfRecord+1 {
			return nil, ErrRecordTooLong
		}
		if err == nil {
			return chunk[:len(chunk)-1], nil
		}
		return chunk, err
	}
}

// snarfProtos are the protocol names msgsnarf prints.
var snarfProtos = []string{"MSN", "IRC", "AIM", "ICQ", "YAHOO"}

// parseSnarfHeader recognises "Mon DD HH:MM:SS PROTO SENDER > RECIPIENT: ".
// Text is the rest of the line.
func parseSnarfHeader(line []byte) (SnarfLine, bool) {
	// "Nov 28 18:28:27 " is 16 bytes; the day may be space-padded.
	const stamp = len("Nov 28 18:28:27 ")
	if len(line) < stamp+4 {
		return SnarfLine{}, false
	}
	s := line[:stamp]
	if !isLetter(s[0]) || !isLetter(s[1]) || !isLetter(s[2]) || s[3] != ' ' ||
		!(s[4] == ' ' || isDigit(s[4])) || !isDigit(s[5]) || s[6] != ' ' ||
		!isDigit(s[7]) || !isDigit(s[8]) || s[9] != ':' || !isDigit(s[10]) || !isDigit(s[11]) ||
		s[12] != ':' || !isDigit(s[13]) || !isDigit(s[14]) || s[15] != ' ' {
		return SnarfLine{}, false
	}
	rest := line[stamp:]
	sp := bytes.IndexByte(rest, ' ')
	if sp < 0 || !slices.Contains(snarfProtos, string(rest[:sp])) {
		return SnarfLine{}, false
	}
	proto := string(rest[:sp])
	rest = rest[sp+1:]
	// IRC also prints "*** nick (user@host) has joined ..." lines: no " > ".
	gt := bytes.Index(rest, []byte(" > "))
	if gt < 0 {
		return SnarfLine{Proto: proto, Text: rest}, true
	}
	sender := rest[:gt]
	rest = rest[gt+3:]
	colon := bytes.Index(rest, []byte(": "))
	if colon < 0 {
		return SnarfLine{Proto: proto, Sender: string(sender), Text: rest}, true
	}
	return SnarfLine{Proto: proto, Sender: string(sender), Recipient: string(rest[:colon]), Text: rest[colon+2:]}, true
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// CheckReport is the outcome of CrossCheck.
type CheckReport struct {
	SnarfMSN   int // MSN chat lines msgsnarf printed
	SnarfOther int // records of its other protocols (IRC noise, ...), not compared
	Matched    int // MSN lines found among our message events
	// Missing are the MSN lines not found (at most MaxMissing kept);
	// MissingCount counts them all.
	Missing      []SnarfLine
	MissingCount int
	// Events counts our events per kind; Extra is how many of our message
	// events msgsnarf did not print.
	Events map[string]int
	Extra  int
}

// MaxMissing bounds CheckReport.Missing.
const MaxMissing = 20

// OK reports whether every msgsnarf MSN line was found.
func (r CheckReport) OK() bool { return r.MissingCount == 0 }

// Messages is the number of our message events.
func (r CheckReport) Messages() int { return r.Events["message"] }

// CrossCheck reads our events (rcds decode JSON lines) and msgsnarf's
// output, and matches each MSN chat line msgsnarf printed to one of our
// message events, each event used once: same text (our UTF-8 body encoded
// back into the charset of its Content-Type, which is what msgsnarf prints)
// and same sender. msgsnarf names the sender of a message a client sent by
// its transaction ID, so such a line matches a message with from_client
// true; a delivered message matches on the passport (case-insensitive).
// Memory grows with the number of distinct messages (a 16-byte digest each),
// not with their size.
func CrossCheck(events, snarf io.Reader) (CheckReport, error) {
	rep := CheckReport{Events: map[string]int{}}
	want := map[[16]byte]int32{}
	br := bufio.NewReaderSize(events, 256<<10)
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br)
		if len(bytes.TrimSpace(line)) > 0 {
			var e struct {
				Kind       string `json:"kind"`
				From       string `json:"from"`
				FromClient bool   `json:"from_client"`
				Body       string `json:"body"`
				Charset    string `json:"charset"`
			}
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				return rep, fmt.Errorf("benchdecode: cross-check: event line %d: %w", lineNo, jerr)
			}
			rep.Events[e.Kind]++
			if e.Kind == "message" {
				want[matchKey(e.FromClient, e.From, wireText(e.Body, e.Charset))]++
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, fmt.Errorf("benchdecode: cross-check: event line %d: %w", lineNo, err)
		}
	}
	err := ParseMsgsnarf(snarf, func(l SnarfLine) error {
		if l.Proto != "MSN" {
			rep.SnarfOther++
			return nil
		}
		rep.SnarfMSN++
		k := matchKey(isTrID(l.Sender), l.Sender, l.Text)
		if want[k] > 0 {
			want[k]--
			rep.Matched++
			return nil
		}
		rep.MissingCount++
		if len(rep.Missing) < MaxMissing {
			l.Text = bytes.Clone(l.Text)
			rep.Missing = append(rep.Missing, l)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("benchdecode: cross-check: %w", err)
	}
	rep.Extra = rep.Messages() - rep.Matched
	return rep, nil
}

// matchKey digests (sender, text): a client-sent message has no sender in
// msgsnarf's output, only a transaction ID.
func matchKey(fromClient bool, from string, text []byte) [16]byte {
	h := sha256.New()
	if fromClient {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
		h.Write([]byte(strings.ToLower(from)))
	}
	h.Write([]byte{0})
	h.Write(text)
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k
}

// isTrID reports whether s is a transaction ID (digits), as msgsnarf shows
// for the sender of a MSG a client sent.
func isTrID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// wireText turns a decoded UTF-8 body back into the bytes of its charset.
// UTF-8, an absent charset, or one that is unknown or cannot encode the
// text leave it as is.
func wireText(body, charset string) []byte {
	switch strings.ToLower(charset) {
	case "", "utf-8", "utf8":
		return []byte(body)
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return []byte(body)
	}
	b, err := enc.NewEncoder().Bytes([]byte(body))
	if err != nil {
		return []byte(body)
	}
	return b
}
