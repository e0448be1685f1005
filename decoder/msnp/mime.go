package msnp

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"rcds/decoder"
)

// Content types the decoder knows (lower case, without parameters).
const (
	ctText    = "text/plain"
	ctControl = "text/x-msmsgscontrol"
	ctInvite  = "text/x-msmsgsinvite"
	ctP2P     = "application/x-msnmsgrp2p"
)

// mimeMessage is the parsed MIME message of a MSG payload. Its slices alias
// the payload.
type mimeMessage struct {
	contentType []byte // media type without parameters, as on the wire
	charset     []byte // charset parameter of Content-Type, if any
	format      []byte // X-MMS-IM-Format value
	typingUser  []byte // TypingUser value
	body        []byte // everything after the blank line
	headerEnd   bool   // a blank line ended the headers
}

// parseMIME parses the headers and finds the body of an MSNP MIME message:
// "Name: value" lines ended by CRLF (or LF), a blank line, then the body.
// A message without a blank line is all headers and has an empty body. It
// never fails; unknown or malformed header lines are ignored.
func parseMIME(p []byte, m *mimeMessage) {
	*m = mimeMessage{}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		var line []byte
		if i < 0 {
			line, p = p, nil
		} else {
			line, p = p[:i], p[i+1:]
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			if i >= 0 {
				m.headerEnd = true
				m.body = p
			}
			return
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		name := bytes.TrimSpace(line[:colon])
		value := bytes.TrimSpace(line[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Type")):
			m.contentType, m.charset = splitContentType(value)
		case bytes.EqualFold(name, []byte("X-MMS-IM-Format")):
			m.format = value
		case bytes.EqualFold(name, []byte("TypingUser")):
			m.typingUser = value
		}
	}
}

// splitContentType returns the media type and the charset parameter of a
// Content-Type value.
func splitContentType(v []byte) (mt, charset []byte) {
	semi := bytes.IndexByte(v, ';')
	if semi < 0 {
		return bytes.TrimSpace(v), nil
	}
	mt = bytes.TrimSpace(v[:semi])
	params := v[semi+1:]
	for len(params) > 0 {
		var p []byte
		if j := bytes.IndexByte(params, ';'); j >= 0 {
			p, params = params[:j], params[j+1:]
		} else {
			p, params = params, nil
		}
		eq := bytes.IndexByte(p, '=')
		if eq < 0 {
			continue
		}
		if bytes.EqualFold(bytes.TrimSpace(p[:eq]), []byte("charset")) {
			charset = bytes.Trim(bytes.TrimSpace(p[eq+1:]), `"'`)
		}
	}
	return mt, charset
}

// contentTypeString returns the lower-case media type, without allocating
// for the common ones.
func contentTypeString(mt []byte) string {
	switch {
	case bytes.EqualFold(mt, []byte(ctText)):
		return ctText
	case bytes.EqualFold(mt, []byte(ctControl)):
		return ctControl
	case bytes.EqualFold(mt, []byte(ctInvite)):
		return ctInvite
	case bytes.EqualFold(mt, []byte(ctP2P)):
		return ctP2P
	case bytes.EqualFold(mt, []byte("text/x-msmsgsprofile")):
		return "text/x-msmsgsprofile"
	case bytes.EqualFold(mt, []byte("text/x-clientcaps")):
		return "text/x-clientcaps"
	}
	return strings.ToLower(string(mt))
}

// charsetString returns the charset name as the Content-Type gives it,
// without allocating for the common spellings of UTF-8.
func charsetString(cs []byte) string {
	switch string(cs) {
	case "":
		return ""
	case "UTF-8":
		return "UTF-8"
	case "utf-8":
		return "utf-8"
	}
	return validString(cs)
}

// isUTF8Name reports whether a charset name means UTF-8 (or is absent, for
// which MSNP clients send UTF-8).
func isUTF8Name(cs []byte) bool {
	return len(cs) == 0 || bytes.EqualFold(cs, []byte("utf-8")) || bytes.EqualFold(cs, []byte("utf8"))
}

// decodeBody converts a body in charset cs to a UTF-8 string. Bytes that
// are not valid in the charset become U+FFFD, so the result is always valid
// UTF-8. The second result is false when the charset is unknown (the body
// is then read as UTF-8).
func decodeBody(body []byte, cs []byte) (string, bool) {
	if isUTF8Name(cs) {
		return validString(body), true
	}
	enc, err := htmlindex.Get(string(cs))
	if err != nil {
		return validString(body), false
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return validString(body), false
	}
	return validString(out), true
}

// validString returns b as a string with invalid UTF-8 replaced by U+FFFD.
func validString(b []byte) string {
	switch {
	case len(b) == 0:
		return ""
	case len(b) == 2 && b[0] == '\r' && b[1] == '\n':
		return "\r\n"
	case utf8.Valid(b):
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// parseFormat parses an X-MMS-IM-Format value such as
// "FN=Arial; EF=B; CO=ff; CS=0; PF=22". FN is URL-decoded.
func parseFormat(v []byte) *decoder.Format {
	f := &decoder.Format{}
	for len(v) > 0 {
		var p []byte
		if j := bytes.IndexByte(v, ';'); j >= 0 {
			p, v = v[:j], v[j+1:]
		} else {
			p, v = v, nil
		}
		p = bytes.TrimSpace(p)
		eq := bytes.IndexByte(p, '=')
		if eq < 0 {
			continue
		}
		key, val := bytes.TrimSpace(p[:eq]), bytes.TrimSpace(p[eq+1:])
		switch {
		case bytes.EqualFold(key, []byte("FN")):
			f.Font = urlDecode(val)
		case bytes.EqualFold(key, []byte("EF")):
			f.Effects = validString(val)
		case bytes.EqualFold(key, []byte("CO")):
			f.Color = validString(val)
		case bytes.EqualFold(key, []byte("CS")):
			f.Charset = validString(val)
		case bytes.EqualFold(key, []byte("PF")):
			f.Pitch = validString(val)
		}
	}
	return f
}

// urlDecode decodes %XX escapes leniently (a malformed escape is kept as
// is) and returns valid UTF-8. '+' is not a space in MSNP.
func urlDecode(b []byte) string {
	if bytes.IndexByte(b, '%') < 0 {
		return validString(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		out = append(out, b[i])
	}
	return validString(out)
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
