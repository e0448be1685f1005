package msnp

import (
	"errors"
)

// maxTokens bounds the tokens kept of one command line. Longer lines keep
// the first maxTokens-1 tokens and the last one (which is where payload
// commands put their length).
const maxTokens = 24

// Errors of the command-line parser. They are sentinels so that tests and
// the framer can branch on them; they never carry wire text.
var (
	ErrNotCommand    = errors.New("msnp: line is not an MSNP command")
	ErrBadLength     = errors.New("msnp: payload length is not a number")
	ErrNegLength     = errors.New("msnp: payload length is negative")
	ErrLengthTooBig  = errors.New("msnp: payload length exceeds the bound")
	ErrLineTooLong   = errors.New("msnp: command line exceeds the bound")
	ErrGap           = errors.New("msnp: bytes missing from the stream")
	ErrTruncated     = errors.New("msnp: stream ended inside a command")
	ErrPayloadDamage = errors.New("msnp: bytes missing inside a payload")
)

// command is one parsed MSNP command line. Its tokens alias the line and are
// only valid while the line is.
type command struct {
	line []byte
	toks [maxTokens][]byte
	n    int // number of tokens kept (<= maxTokens)
}

// verb returns the first token.
func (c *command) verb() []byte { return c.toks[0] }

// tok returns token i or nil.
func (c *command) tok(i int) []byte {
	if i < 0 || i >= c.n {
		return nil
	}
	return c.toks[i]
}

// last returns the last token of the line.
func (c *command) last() []byte { return c.toks[c.n-1] }

// parseCommand splits a line (without its line ending) into tokens and
// checks that it starts like an MSNP command: three upper-case letters or
// three digits, then a space or the end of the line.
func parseCommand(line []byte, c *command) error {
	c.line = line
	c.n = 0
	if len(line) < 3 || (len(line) > 3 && line[3] != ' ') {
		return ErrNotCommand
	}
	a, b, d := line[0], line[1], line[2]
	upper := isUpper(a) && isUpper(b) && isUpper(d)
	digits := isDigit(a) && isDigit(b) && isDigit(d)
	if !upper && !digits {
		return ErrNotCommand
	}
	i := 0
	for i < len(line) {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i >= len(line) {
			break
		}
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		if c.n < maxTokens {
			c.toks[c.n] = line[i:j]
			c.n++
		} else {
			c.toks[maxTokens-1] = line[i:j]
		}
		i = j
	}
	return nil
}

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }
func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// isNumeric reports whether b is a non-empty run of decimal digits.
func isNumeric(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, x := range b {
		if !isDigit(x) {
			return false
		}
	}
	return true
}

// parseLength parses a payload length token: decimal digits only, at most
// max. It distinguishes a negative number from other garbage.
func parseLength(b []byte, max int) (int, error) {
	if len(b) > 1 && b[0] == '-' && isNumeric(b[1:]) {
		return 0, ErrNegLength
	}
	if !isNumeric(b) {
		return 0, ErrBadLength
	}
	n := 0
	for _, x := range b {
		n = n*10 + int(x-'0')
		if n > max {
			return 0, ErrLengthTooBig
		}
	}
	return n, nil
}

// payloadRule says how a command carries a payload: the length is the last
// token when the line has at least min tokens. strict commands must carry a
// valid length; others without one (server echoes such as "ADL 5 OK") have
// no payload.
type payloadRule struct {
	min    int
	strict bool
}

// payloadRuleOf returns the payload rule of a verb, ok false when the verb
// never carries a payload.
func payloadRuleOf(verb []byte) (payloadRule, bool) {
	if len(verb) != 3 {
		return payloadRule{}, false
	}
	if isDigit(verb[0]) {
		// Numeric errors with a payload: "241 trid len".
		return payloadRule{min: 3}, true
	}
	switch string(verb) {
	case "MSG":
		return payloadRule{min: 4, strict: true}, true
	case "NOT", "IPG":
		return payloadRule{min: 2, strict: true}, true
	case "UUX", "UBX", "ADL", "RML", "FQY", "GCF":
		// GCF: "GCF 0 len" (MSNP15+) and "GCF trid Shields.xml len"
		// (MSNP13) carry one; the request "GCF trid Shields.xml" not.
		return payloadRule{min: 3}, true
	case "QRY", "UUN", "UBN":
		return payloadRule{min: 4}, true
	case "UUM", "UBM":
		return payloadRule{min: 5}, true
	}
	return payloadRule{}, false
}

// payloadLength returns the payload length of a parsed command, -1 when it
// carries none, or an error for a bad or oversized length.
func payloadLength(c *command, max int) (int, error) {
	rule, ok := payloadRuleOf(c.verb())
	if !ok {
		return -1, nil
	}
	if c.n < rule.min {
		if rule.strict {
			return 0, ErrBadLength
		}
		return -1, nil
	}
	last := c.last()
	if !rule.strict && !isNumeric(last) {
		if len(last) > 1 && last[0] == '-' && isNumeric(last[1:]) {
			return 0, ErrNegLength
		}
		// A server echo ("ADL 5 OK", "GCF 4 Shields.xml", "500 7 x"): no
		// payload.
		return -1, nil
	}
	if isDigit(c.verb()[0]) && c.n != 3 {
		// Only the "NNN trid len" shape carries a payload.
		return -1, nil
	}
	return parseLength(last, max)
}

// knownVerb reports whether verb is an MSNP command (MSNP2 to MSNP18) or a
// numeric reply. Resynchronisation only accepts these.
func knownVerb(verb []byte) bool {
	if len(verb) != 3 {
		return false
	}
	if isDigit(verb[0]) {
		return isDigit(verb[1]) && isDigit(verb[2])
	}
	switch string(verb) {
	case "ACK", "ADC", "ADD", "ADG", "ADL", "ANS", "BLP", "BPR", "BYE", "CAL",
		"CHG", "CHL", "CVR", "FLN", "FQY", "GCF", "GTC", "ILN", "INF", "IPG",
		"IRO", "JOI", "LSG", "LST", "MSG", "NAK", "NLN", "NOT", "OUT", "PNG",
		"PRP", "QNG", "QRY", "REA", "REG", "REM", "RMG", "RML", "RNG", "SBP",
		"SBS", "SDC", "SND", "SYN", "UBM", "UBN", "UBX", "URL", "USR", "UUM",
		"UUN", "UUX", "VER", "XFR":
		return true
	}
	return false
}
