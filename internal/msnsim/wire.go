package msnsim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Default bounds, shared by server and client.
const (
	defaultMaxLine    = 4096
	defaultMaxPayload = 32 << 10
	minMaxLine        = 64
)

// command is one MSNP command or reply: a line of space-separated tokens and,
// for payload commands, the payload whose length is the last token.
type command struct {
	Verb    string
	Args    []string
	Payload []byte
}

// trid returns the transaction ID (the first argument) or "".
func (c *command) trid() string {
	if len(c.Args) == 0 {
		return ""
	}
	return c.Args[0]
}

func (c *command) arg(i int) string {
	if i < len(c.Args) {
		return c.Args[i]
	}
	return ""
}

// String renders the command line without payload (for logs and errors).
func (c *command) String() string {
	if len(c.Args) == 0 {
		return c.Verb
	}
	return c.Verb + " " + strings.Join(c.Args, " ")
}

// Payload-carrying verbs, by direction. The payload length is the last token.
var (
	clientPayloadVerbs = map[string]bool{"MSG": true, "UUX": true, "ADL": true, "RML": true,
		"QRY": true, "FQY": true, "UUN": true, "UUM": true, "PAG": true}
	serverPayloadVerbs = map[string]bool{"MSG": true, "UBX": true, "NOT": true, "GCF": true,
		"ADL": true, "RML": true, "IPG": true, "UBN": true, "UUN": true, "UBM": true, "FQY": true}
)

// lineReader reads MSNP commands with bounded memory.
type lineReader struct {
	br         *bufio.Reader
	maxLine    int
	maxPayload int
	payload    map[string]bool
}

func newLineReader(r io.Reader, maxLine, maxPayload int, payloadVerbs map[string]bool) *lineReader {
	if maxLine < minMaxLine {
		maxLine = minMaxLine
	}
	return &lineReader{br: bufio.NewReaderSize(r, maxLine), maxLine: maxLine, maxPayload: maxPayload, payload: payloadVerbs}
}

// frameError is a framing error that still identifies the command (so that
// a server can answer "200 trid" before disconnecting).
type frameError struct {
	cmd *command
	err error
}

func (e *frameError) Error() string { return fmt.Sprintf("%s: %v", e.cmd.Verb, e.err) }
func (e *frameError) Unwrap() error { return e.err }

// next reads one command. Empty lines are skipped. Errors: io.EOF at a clean
// end, ErrLineTooLong, ErrPayloadTooLarge, ErrProtocol (wrapped, possibly in
// a *frameError), or the underlying read error.
func (r *lineReader) next() (*command, error) {
	for {
		line, err := r.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w (more than %d bytes)", ErrLineTooLong, r.maxLine)
		}
		if err != nil {
			if len(line) > 0 && errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: unterminated line at end of stream", ErrProtocol)
			}
			return nil, err
		}
		line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
		if len(line) == 0 {
			continue
		}
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			continue
		}
		cmd := &command{Verb: fields[0], Args: fields[1:]}
		if !r.payload[cmd.Verb] || isPayloadlessReply(cmd) {
			return cmd, nil
		}
		if len(cmd.Args) == 0 {
			return nil, &frameError{cmd, fmt.Errorf("%w: payload length missing", ErrProtocol)}
		}
		n, err := strconv.Atoi(cmd.Args[len(cmd.Args)-1])
		if err != nil || n < 0 {
			return nil, &frameError{cmd, fmt.Errorf("%w: bad payload length %q", ErrProtocol, cmd.Args[len(cmd.Args)-1])}
		}
		if n > r.maxPayload {
			return nil, &frameError{cmd, fmt.Errorf("%w: %d bytes (limit %d)", ErrPayloadTooLarge, n, r.maxPayload)}
		}
		cmd.Payload = make([]byte, n)
		if _, err := io.ReadFull(r.br, cmd.Payload); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, &frameError{cmd, fmt.Errorf("%w: payload cut short", ErrProtocol)}
			}
			return nil, err
		}
		return cmd, nil
	}
}

// isPayloadlessReply: "ADL trid OK" and "RML trid OK" acknowledge a
// payload command without carrying one.
func isPayloadlessReply(cmd *command) bool {
	return (cmd.Verb == "ADL" || cmd.Verb == "RML") && len(cmd.Args) == 2 && cmd.Args[1] == "OK"
}

// line formats one command line with its CRLF.
func line(verb string, args ...string) []byte {
	n := len(verb) + 2
	for _, a := range args {
		n += len(a) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, verb...)
	for _, a := range args {
		b = append(b, ' ')
		b = append(b, a...)
	}
	return append(b, '\r', '\n')
}

// withPayload formats a payload command: the line (whose last token is the
// payload length) followed by the payload.
func withPayload(verb string, payload []byte, args ...string) []byte {
	args = append(args, strconv.Itoa(len(payload)))
	b := line(verb, args...)
	return append(b, payload...)
}

// encodeNick URL-encodes a friendly name the way MSN does (spaces as %20).
func encodeNick(s string) string { return url.PathEscape(s) }

// decodeNick reverses encodeNick; a malformed escape leaves the text as is.
func decodeNick(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// validPassport reports whether p looks like a Passport sign-in name: one
// '@' with text on both sides, at most 129 bytes, no spaces or controls.
func validPassport(p string) bool {
	if len(p) < 3 || len(p) > 129 {
		return false
	}
	at := strings.IndexByte(p, '@')
	if at <= 0 || at == len(p)-1 || strings.Count(p, "@") != 1 {
		return false
	}
	for _, r := range p {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '%' || r == '<' || r == '>' || r == '"' || r == '&' || r == '\'' {
			return false
		}
	}
	return true
}

// normPassport lower-cases a passport (MSN handles are case-insensitive).
func normPassport(p string) string { return strings.ToLower(p) }

// validStatus reports whether s is a presence code a client may set.
func validStatus(s string) bool {
	switch s {
	case "NLN", "BSY", "IDL", "BRB", "AWY", "PHN", "LUN", "HDN":
		return true
	}
	return false
}

// Protocol version features. Thresholds follow the MSNP version history
// (hypothetic.org, NINA wiki, msnp-wiki).
type proto int

const (
	minVersion = 8
	maxVersion = 15
)

func (v proto) String() string     { return "MSNP" + strconv.Itoa(int(v)) }
func (v proto) sso() bool          { return v >= 15 } // USR SSO instead of TWN
func (v proto) syn() bool          { return v < 13 }  // SYN/GTC exist (ADL replaces them)
func (v proto) listVersions() bool { return v < 10 }  // list version numbers in replies
func (v proto) nickInUSR() bool    { return v < 10 }  // USR OK carries the friendly name
func (v proto) prp() bool          { return v >= 10 } // PRP MFN instead of REA
func (v proto) uux() bool          { return v >= 11 } // personal messages
func (v proto) sbClientID() bool   { return v >= 12 } // JOI/IRO carry client capabilities
func (v proto) u() bool            { return v >= 13 } // "U D" / "U messenger.msn.com" suffixes
func (v proto) networkID() bool    { return v >= 14 } // network id in ILN/NLN/FLN/UBX, direct flag
func (v proto) sbs() bool          { return v >= 11 } // "SBS 0 null" after login

// addVerb is the command that adds a contact in this version.
func (v proto) addVerb() string {
	switch {
	case v < 10:
		return "ADD"
	case v < 13:
		return "ADC"
	}
	return "ADL"
}

// clientID is the client-capabilities number a client of this version
// announces in CHG.
func (v proto) clientID() string {
	switch {
	case v < 10:
		return "268435456"
	case v < 13:
		return "1342177280"
	}
	return "2789003324"
}

// parseVersions extracts the MSNPn tokens of a VER request.
func parseVersions(args []string) []int {
	var out []int
	for _, a := range args {
		if !strings.HasPrefix(a, "MSNP") {
			continue
		}
		n, err := strconv.Atoi(a[4:])
		if err == nil && n > 0 && n < 100 {
			out = append(out, n)
		}
	}
	return out
}
