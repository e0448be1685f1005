package msnp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// maxXMLTokens bounds the XML tokens read from one payload (the payload size
// is already bounded by Options.MaxPayload; this bounds the work).
const maxXMLTokens = 1 << 16

// forEachADLContact calls fn for every contact of an ADL/RML payload:
// <ml><d n="domain"><c n="user" l="1" t="1"/></d></ml> gives user@domain.
// A <c> outside a <d> with an n holding an '@' is taken as is. Parsing stops
// at the first XML error; contacts before it are reported.
func forEachADLContact(payload []byte, fn func(contact string)) {
	d := xml.NewDecoder(bytes.NewReader(payload))
	d.Strict = false
	var domain string
	for range maxXMLTokens {
		tok, err := d.RawToken()
		if err != nil {
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "d":
				domain = attr(t, "n")
			case "c":
				user := attr(t, "n")
				switch {
				case user == "":
				case strings.IndexByte(user, '@') > 0:
					fn(validString([]byte(user)))
				case domain != "":
					fn(validString([]byte(user + "@" + domain)))
				}
			}
		case xml.EndElement:
			if t.Name.Local == "d" {
				domain = ""
			}
		}
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// errNoPSM means a UUX/UBX payload has no <PSM> element.
var errNoPSM = errors.New("msnp: no PSM element")

// personalMessage returns the text of the <PSM> element of a UUX/UBX
// payload (<Data><PSM>text</PSM><CurrentMedia>...</CurrentMedia></Data>),
// with XML entities resolved. ok is false when there is no <PSM>.
func personalMessage(payload []byte) (string, bool) {
	s, err := elementText(payload, "PSM")
	if err != nil {
		return "", false
	}
	return s, true
}

func elementText(payload []byte, name string) (string, error) {
	if !bytes.Contains(payload, []byte("<"+name)) {
		return "", errNoPSM
	}
	d := xml.NewDecoder(bytes.NewReader(payload))
	d.Strict = false
	depth := 0
	var text []byte
	for range maxXMLTokens {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if depth > 0 {
				return validString(text), nil
			}
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth > 0 {
				depth++
			} else if t.Name.Local == name {
				depth = 1
			}
		case xml.EndElement:
			if depth > 0 {
				depth--
				if depth == 0 {
					return validString(text), nil
				}
			}
		case xml.CharData:
			if depth > 0 {
				text = append(text, t...)
			}
		}
	}
	if depth > 0 {
		return validString(text), nil
	}
	return "", errNoPSM
}
