package decoder

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends e as one JSON object (no newline) to dst. The output
// is byte-identical to encoding/json's Marshal of the Event (same field
// order, omissions and string escaping) but does not allocate.
func AppendJSON(dst []byte, e *Event) []byte {
	dst = append(dst, `{"kind":`...)
	dst = appendJSONString(dst, string(e.Kind))
	dst = append(dst, `,"time":"`...)
	dst = e.Time.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","proto":`...)
	dst = appendJSONString(dst, e.Proto)
	dst = append(dst, `,"flow":`...)
	dst = appendJSONString(dst, e.Flow)
	if e.Role != "" {
		dst = append(dst, `,"role":`...)
		dst = appendJSONString(dst, string(e.Role))
	}
	dst = append(dst, `,"comm":`...)
	dst = strconv.AppendUint(dst, e.Comm, 10)
	dst = append(dst, `,"from_client":`...)
	dst = strconv.AppendBool(dst, e.FromClient)
	dst = appendField(dst, "user", e.User)
	dst = appendField(dst, "from", e.From)
	if len(e.To) > 0 {
		dst = append(dst, `,"to":[`...)
		for i, t := range e.To {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, t)
		}
		dst = append(dst, ']')
	}
	dst = appendField(dst, "body", e.Body)
	dst = appendField(dst, "content_type", e.ContentType)
	dst = appendField(dst, "charset", e.Charset)
	dst = appendField(dst, "status", e.Status)
	dst = appendField(dst, "contact", e.Contact)
	dst = appendField(dst, "nick", e.Nick)
	if f := e.Format; f != nil {
		dst = append(dst, `,"format":{`...)
		n := len(dst)
		dst = appendField(dst, "font", f.Font)
		dst = appendField(dst, "effects", f.Effects)
		dst = appendField(dst, "color", f.Color)
		dst = appendField(dst, "charset", f.Charset)
		dst = appendField(dst, "pitch", f.Pitch)
		if len(dst) > n {
			// Drop the comma appendField put before the first member.
			dst = append(dst[:n], dst[n+1:]...)
		}
		dst = append(dst, '}')
	}
	dst = appendField(dst, "detail", e.Detail)
	return append(dst, '}')
}

// appendField appends ,"name":"value" when value is not empty.
func appendField(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendJSONString(dst, value)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json does
// (HTML-safe: <, > and & escaped; invalid UTF-8 as \ufffd; U+2028 and
// U+2029 escaped).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendText appends e as one human-readable line (no newline): time,
// kind, role, flow, then the non-empty fields as name=value, the body and
// nick quoted with Go syntax so that the line stays one line.
func AppendText(dst []byte, e *Event) []byte {
	dst = e.Time.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, ' ')
	dst = append(dst, e.Kind...)
	if e.Role != "" {
		dst = append(dst, ' ')
		dst = append(dst, e.Role...)
	}
	dst = append(dst, ' ')
	dst = append(dst, e.Flow...)
	dst = appendTextField(dst, "user", e.User, false)
	dst = appendTextField(dst, "from", e.From, false)
	if len(e.To) > 0 {
		dst = append(dst, " to="...)
		for i, t := range e.To {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendPlain(dst, t)
		}
	}
	dst = appendTextField(dst, "status", e.Status, false)
	dst = appendTextField(dst, "contact", e.Contact, false)
	dst = appendTextField(dst, "nick", e.Nick, true)
	dst = appendTextField(dst, "type", e.ContentType, false)
	dst = appendTextField(dst, "detail", e.Detail, true)
	if e.Body != "" {
		dst = append(dst, " body="...)
		dst = strconv.AppendQuote(dst, e.Body)
	}
	return dst
}

func appendTextField(dst []byte, name, value string, quote bool) []byte {
	if value == "" {
		return dst
	}
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, '=')
	if quote {
		return strconv.AppendQuote(dst, value)
	}
	return appendPlain(dst, value)
}

// appendPlain appends an identifier, quoting it only when it holds spaces,
// commas or non-printable characters.
func appendPlain(dst []byte, s string) []byte {
	for _, r := range s {
		if r <= ' ' || r == ',' || r == '"' || r == '=' || !strconv.IsPrint(r) {
			return strconv.AppendQuote(dst, s)
		}
	}
	return append(dst, s...)
}
