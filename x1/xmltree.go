package x1

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits of the document parser. A document beyond them is refused before
// any of it is applied, so memory stays bounded whatever arrives.
const (
	// MaxDocumentSize is the largest X1 document accepted (1 MiB).
	MaxDocumentSize = 1 << 20
	maxDepth        = 32
	maxElements     = 1 << 16
	maxAttributes   = 32
	maxMessages     = 1000
)

// errDTD marks a document carrying a DOCTYPE or ENTITY declaration.
var errDTD = errors.New("DOCTYPE/ENTITY declarations are not allowed in X1 documents")

// node is one element of a parsed document.
type node struct {
	name     xml.Name // namespace URI + local name
	xsiType  xml.Name // resolved xsi:type, if any
	hasType  bool
	attrs    []xml.Name // other attributes (namespace declarations excluded)
	text     string     // character data directly inside the element
	mixed    bool       // non-whitespace text next to child elements
	children []*node
	line     int
}

// prescan refuses what must never reach the XML parser: DTDs (XXE and
// entity expansion), NUL bytes, invalid UTF-8.
func prescan(doc []byte) error {
	if len(doc) == 0 {
		return errors.New("empty document")
	}
	if bytes.IndexByte(doc, 0) >= 0 {
		return errors.New("document contains NUL bytes (only UTF-8 is accepted)")
	}
	if !utf8.Valid(doc) {
		return errors.New("document is not valid UTF-8")
	}
	if containsFold(doc, "<!DOCTYPE") || containsFold(doc, "<!ENTITY") {
		return errDTD
	}
	return nil
}

func containsFold(b []byte, sub string) bool {
	return bytes.Contains(bytes.ToUpper(b), []byte(sub))
}

// parseTree parses doc into a tree. It resolves element and attribute
// namespaces and the QName of xsi:type, and refuses directives, entities
// other than the five predefined ones, encodings other than UTF-8, and
// documents beyond the limits.
func parseTree(doc []byte) (*node, error) {
	if err := prescan(doc); err != nil {
		return nil, err
	}
	doc = bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf"))
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	d.Entity = nil
	// CharsetReader stays nil: any declared encoding but UTF-8 is an error.

	type frame struct {
		n    *node
		ns   map[string]string // prefix -> URI declared on this element
		text strings.Builder
	}
	var stack []*frame
	var root *node
	elements := 0
	lookup := func(prefix string) (string, bool) {
		for i := len(stack) - 1; i >= 0; i-- {
			if uri, ok := stack[i].ns[prefix]; ok {
				return uri, true
			}
		}
		if prefix == "xml" {
			return "http://www.w3.org/XML/1998/namespace", true
		}
		return "", prefix == ""
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > maxElements {
				return nil, fmt.Errorf("more than %d elements", maxElements)
			}
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("elements nested deeper than %d", maxDepth)
			}
			if len(stack) == 0 && root != nil {
				return nil, errors.New("more than one root element")
			}
			if len(t.Attr) > maxAttributes {
				return nil, fmt.Errorf("more than %d attributes on <%s>", maxAttributes, t.Name.Local)
			}
			line, _ := d.InputPos()
			f := &frame{n: &node{name: t.Name, line: line}}
			var rawType string
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					if f.ns == nil {
						f.ns = map[string]string{}
					}
					f.ns[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					if f.ns == nil {
						f.ns = map[string]string{}
					}
					f.ns[""] = a.Value
				case a.Name.Space == NamespaceXSI && a.Name.Local == "type":
					rawType = a.Value
					f.n.hasType = true
				default:
					f.n.attrs = append(f.n.attrs, a.Name)
				}
			}
			if len(t.Name.Space) > 0 && !strings.Contains(t.Name.Space, ":") {
				// encoding/xml leaves an undeclared prefix in Space.
				return nil, fmt.Errorf("line %d: undeclared namespace prefix %q", line, t.Name.Space)
			}
			stack = append(stack, f)
			if f.n.hasType {
				q := collapse(rawType)
				prefix, local, ok := strings.Cut(q, ":")
				if !ok {
					prefix, local = "", q
				}
				uri, found := lookup(prefix)
				if !found || local == "" || strings.Contains(local, ":") {
					return nil, fmt.Errorf("line %d: xsi:type %q does not resolve", line, clip(rawType))
				}
				f.n.xsiType = xml.Name{Space: uri, Local: local}
			}
			if len(stack) > 1 {
				parent := stack[len(stack)-2].n
				parent.children = append(parent.children, f.n)
			} else {
				root = f.n
			}
		case xml.EndElement:
			f := stack[len(stack)-1]
			f.n.text = f.text.String()
			if len(f.n.children) > 0 && strings.TrimSpace(f.n.text) != "" {
				f.n.mixed = true
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, errors.New("text outside the root element")
				}
				continue
			}
			stack[len(stack)-1].text.Write(t)
		case xml.Directive:
			return nil, errDTD
		case xml.ProcInst, xml.Comment:
			// The XML declaration, other processing instructions and
			// comments carry nothing for X1.
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// is reports whether n is the element {ns}local.
func (n *node) is(ns, local string) bool {
	return n.name.Space == ns && n.name.Local == local
}

// label names n for an error description.
func (n *node) label() string {
	return fmt.Sprintf("<%s> (line %d)", n.name.Local, n.line)
}

// seq walks the children of an element of a complex type with
// xs:sequence content, in schema order.
type seq struct {
	parent *node
	i      int
	err    error
	path   string
}

func newSeq(n *node, path string) *seq {
	s := &seq{parent: n, path: path}
	if n.mixed {
		s.fail("%s: text is not allowed next to elements", n.label())
	}
	if err := noForeignAttrs(n); err != nil {
		s.err = err
	}
	return s
}

func noForeignAttrs(n *node) error {
	for _, a := range n.attrs {
		if a.Space != NamespaceXSI {
			return fmt.Errorf("%s: attribute %q is not allowed", n.label(), a.Local)
		}
	}
	return nil
}

func (s *seq) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf(format, args...)
	}
}

func (s *seq) peek(ns, local string) bool {
	return s.err == nil && s.i < len(s.parent.children) && s.parent.children[s.i].is(ns, local)
}

// opt returns the next child if it is {ns}local.
func (s *seq) opt(ns, local string) *node {
	if !s.peek(ns, local) {
		return nil
	}
	n := s.parent.children[s.i]
	s.i++
	return n
}

// one returns the next child, which must be {ns}local.
func (s *seq) one(ns, local string) *node {
	if s.err != nil {
		return nil
	}
	if n := s.opt(ns, local); n != nil {
		return n
	}
	if s.i < len(s.parent.children) {
		s.fail("%s: expected <%s>, found %s", s.path, local, s.parent.children[s.i].label())
	} else {
		s.fail("%s: missing <%s>", s.path, local)
	}
	return nil
}

// many returns the following children named {ns}local.
func (s *seq) many(ns, local string) []*node {
	var out []*node
	for s.peek(ns, local) {
		out = append(out, s.parent.children[s.i])
		s.i++
	}
	return out
}

// end checks that no children are left.
func (s *seq) end() error {
	if s.err == nil && s.i < len(s.parent.children) {
		s.fail("%s: unexpected %s", s.path, s.parent.children[s.i].label())
	}
	return s.err
}

// leaf returns the text of a simple-typed element.
func leaf(n *node, path string) (string, error) {
	if n == nil {
		return "", fmt.Errorf("%s: missing", path)
	}
	if len(n.children) > 0 {
		return "", fmt.Errorf("%s: %s must not contain elements", path, n.label())
	}
	if err := noForeignAttrs(n); err != nil {
		return "", err
	}
	if n.hasType {
		return "", fmt.Errorf("%s: xsi:type is not allowed here", path)
	}
	return n.text, nil
}
