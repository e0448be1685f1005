package ber

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		class       Class
		constructed bool
		tag         uint32
		indefinite  bool
		content     string
		rest        string
	}{
		{"short", "8001 05 ff", ClassContext, false, 0, false, "05", "ff"},
		{"long form 1", "0481 80" + strings.Repeat("00", 128), ClassUniversal, false, 4, false, strings.Repeat("00", 128), ""},
		{"non-minimal long form (OpenLI)", "3082 0003 020101", ClassUniversal, true, 16, false, "020101", ""},
		{"long form for a short length", "0481 02 abcd", ClassUniversal, false, 4, false, "abcd", ""},
		{"high tag 255", "bf817f 03 810101", ClassContext, true, 255, false, "810101", ""},
		{"high tag 31", "9f1f 00", ClassContext, false, 31, false, "", ""},
		{"private", "df818000 00", ClassPrivate, false, 16384, false, "", ""},
		{"indefinite", "3080 020101 0000 05", ClassUniversal, true, 16, true, "020101", "05"},
		{"nested indefinite", "a080 3080 0500 0000 8100 0000", ClassContext, true, 0, true, "3080050000008100", ""},
		{"empty indefinite", "a280 0000", ClassContext, true, 2, true, "", ""},
		{"definite inside indefinite", "3080 0403 000000 0000", ClassUniversal, true, 16, true, "0403000000", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := unhex(t, tc.in)
			e, rest, err := Parse(in)
			if err != nil {
				t.Fatal(err)
			}
			if e.Class != tc.class || e.Constructed != tc.constructed || e.Tag != tc.tag || e.Indefinite != tc.indefinite {
				t.Fatalf("got %s indefinite=%v", e, e.Indefinite)
			}
			if hex.EncodeToString(e.Content) != strings.ReplaceAll(tc.content, " ", "") {
				t.Fatalf("content %x, want %s", e.Content, tc.content)
			}
			if hex.EncodeToString(rest) != tc.rest {
				t.Fatalf("rest %x, want %s", rest, tc.rest)
			}
			if len(e.Raw)+len(rest) != len(in) {
				t.Fatalf("raw %d + rest %d != %d", len(e.Raw), len(rest), len(in))
			}
			if err := Validate(e.Raw); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	deepDef := strings.Repeat("30", 40) // built below
	_ = deepDef
	nest := func(n int, indefinite bool) string {
		var b []byte
		if indefinite {
			for i := 0; i < n; i++ {
				b = append(b, 0x30, 0x80)
			}
			for i := 0; i < n; i++ {
				b = append(b, 0, 0)
			}
			return hex.EncodeToString(b)
		}
		inner := []byte{}
		for i := 0; i < n; i++ {
			inner = append(AppendHeader(nil, ClassUniversal, true, TagSequence, len(inner)), inner...)
		}
		return hex.EncodeToString(inner)
	}
	tests := []struct {
		name string
		in   string
		want error
		walk bool // error only appears when walking the tree (Validate)
	}{
		{"empty", "", ErrTruncated, false},
		{"one byte", "30", ErrTruncated, false},
		{"high tag cut", "9f", ErrTruncated, false},
		{"high tag unterminated", "9f81", ErrTruncated, false},
		{"high tag leading 0x80", "9f8001 00", ErrMalformed, false},
		{"high tag below 31", "9f1e 00", ErrMalformed, false},
		{"tag overflow", "9f8880808000 00", ErrMalformed, false},
		{"reserved length 0xff", "04ff", ErrMalformed, false},
		{"nine length octets", "0489 000000000000000001 00", ErrTooLarge, false},
		{"huge length", "0484 ffffffff", ErrTooLarge, false},
		{"long length cut", "0482 01", ErrTruncated, false},
		{"length past end", "0405 0102", ErrTruncated, false},
		{"indefinite primitive", "0480 01 0000", ErrMalformed, false},
		{"unterminated indefinite", "3080 020101", ErrTruncated, false},
		{"EOC at top", "0000", ErrMalformed, false},
		{"universal 0 with length", "0001 00", ErrMalformed, false},
		{"constructed INTEGER", "2203 020101", ErrMalformed, false},
		{"constructed BOOLEAN", "2100", ErrMalformed, false},
		{"primitive SEQUENCE", "1000", ErrMalformed, false},
		{"primitive SET", "1100", ErrMalformed, false},
		{"child past parent", "3003 0405 01", ErrMalformed, true},
		{"stray EOC inside definite", "3002 0000", ErrMalformed, true},
		{"bad child in indefinite", "3080 0480 0000 0000", ErrMalformed, false},
		{"EOC with length in indefinite", "3080 0001 00 0000", ErrMalformed, false},
		{"too deep definite", nest(DefaultMaxDepth+1, false), ErrTooDeep, true},
		{"too deep indefinite", nest(DefaultMaxDepth+1, true), ErrTooDeep, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := unhex(t, tc.in)
			_, _, perr := Parse(in)
			verr := Validate(in)
			if !tc.walk && !errors.Is(perr, tc.want) {
				t.Fatalf("Parse err = %v, want %v", perr, tc.want)
			}
			if !errors.Is(verr, tc.want) {
				t.Fatalf("Validate err = %v, want %v", verr, tc.want)
			}
			if _, err := ParseTree(in); !errors.Is(err, tc.want) {
				t.Fatalf("ParseTree err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNestingBound(t *testing.T) {
	var b []byte
	for i := 0; i < DefaultMaxDepth; i++ {
		b = append(AppendHeader(nil, ClassUniversal, true, TagSequence, len(b)), b...)
	}
	if err := Validate(b); err != nil {
		t.Fatalf("%d levels must be accepted: %v", DefaultMaxDepth, err)
	}
	if err := (Limits{MaxDepth: 5}).Validate(b); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("MaxDepth 5: err = %v", err)
	}
}

func TestParseOneTrailing(t *testing.T) {
	if _, err := ParseOne([]byte{0x05, 0x00, 0x05}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
}

func TestChildren(t *testing.T) {
	in := unhex(t, "3080 8001 01 a180 0500 0000 8200 0000")
	e, err := ParseOne(in)
	if err != nil {
		t.Fatal(err)
	}
	var tags []uint32
	it := e.Children()
	for it.Next() {
		tags = append(tags, it.Element().Tag)
	}
	if it.Err() != nil || len(tags) != 3 || tags[0] != 0 || tags[1] != 1 || tags[2] != 2 {
		t.Fatalf("tags %v err %v", tags, it.Err())
	}
	p, _, _ := Parse([]byte{0x04, 0x00})
	it = p.Children()
	if it.Next() || !errors.Is(it.Err(), ErrMalformed) {
		t.Fatalf("children of a primitive: %v", it.Err())
	}
}

func TestConstructedString(t *testing.T) {
	in := unhex(t, "2480 0402 6869 2403 0401 21 0000")
	e, err := ParseOne(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Bytes()
	if err != nil || string(b) != "hi!" {
		t.Fatalf("Bytes = %q, %v", b, err)
	}
	bad := unhex(t, "2403 020100")
	e, _ = ParseOne(bad)
	if _, err := e.Bytes(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("segment of wrong type: %v", err)
	}
}

func TestTreeRoundTrip(t *testing.T) {
	in := unhex(t, "3080 a080 8101 05 bf817f 03 810101 0000 2480 0401 61 0000 0000")
	n, err := ParseTree(in)
	if err != nil {
		t.Fatal(err)
	}
	var b Builder
	n.Encode(&b)
	out, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "3011 a00a 810105 bf817f03810101 2403 040161")
	if !bytes.Equal(out, want) {
		t.Fatalf("definite re-encoding %x, want %x", out, want)
	}
	m, err := ParseTree(out)
	if err != nil || !n.Equal(&m) {
		t.Fatalf("re-parse differs: %v\n%s\n%s", err, n.String(), m.String())
	}
}
