package ber

import "fmt"

// Node is a generic decoded element tree: a primitive with its contents, or
// a constructed element with its children. It is what FuzzRead round-trips
// and what tools use to print unknown records.
type Node struct {
	Class       Class
	Constructed bool
	Tag         uint32
	Content     []byte // primitive contents (aliases the input)
	Children    []Node // constructed children
}

// ParseTree decodes exactly one element filling data into a Node tree.
func (l Limits) ParseTree(data []byte) (Node, error) {
	e, err := l.ParseOne(data)
	if err != nil {
		return Node{}, err
	}
	return treeOf(e)
}

// ParseTree is Limits{}.ParseTree.
func ParseTree(data []byte) (Node, error) { return Limits{}.ParseTree(data) }

func treeOf(e Element) (Node, error) {
	n := Node{Class: e.Class, Constructed: e.Constructed, Tag: e.Tag}
	if !e.Constructed {
		n.Content = e.Content
		return n, nil
	}
	it := e.Children()
	for it.Next() {
		c, err := treeOf(it.Element())
		if err != nil {
			return Node{}, err
		}
		n.Children = append(n.Children, c)
	}
	if err := it.Err(); err != nil {
		return Node{}, err
	}
	return n, nil
}

// Encode appends the tree with definite lengths.
func (n *Node) Encode(b *Builder) {
	if !n.Constructed {
		b.Primitive(n.Class, n.Tag, n.Content)
		return
	}
	b.Begin(n.Class, n.Tag)
	for i := range n.Children {
		n.Children[i].Encode(b)
	}
	b.End()
}

// Equal reports whether two trees have the same tags, forms and contents.
func (n *Node) Equal(m *Node) bool {
	if n.Class != m.Class || n.Constructed != m.Constructed || n.Tag != m.Tag {
		return false
	}
	if !n.Constructed {
		return string(n.Content) == string(m.Content)
	}
	if len(n.Children) != len(m.Children) {
		return false
	}
	for i := range n.Children {
		if !n.Children[i].Equal(&m.Children[i]) {
			return false
		}
	}
	return true
}

// String renders the tree on one line, e.g. "[UNIVERSAL 16]{[CONTEXT 0]'0102'}".
func (n *Node) String() string {
	if !n.Constructed {
		return fmt.Sprintf("[%s %d]'%x'", n.Class, n.Tag, n.Content)
	}
	s := fmt.Sprintf("[%s %d]{", n.Class, n.Tag)
	for i := range n.Children {
		if i > 0 {
			s += ","
		}
		s += n.Children[i].String()
	}
	return s + "}"
}
