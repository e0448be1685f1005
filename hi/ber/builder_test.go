package ber

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"testing"
	"time"
)

func TestBuilderPrimitives(t *testing.T) {
	ts := time.Date(2024, 3, 1, 12, 30, 45, 123456789, time.UTC)
	tests := []struct {
		name  string
		build func(b *Builder)
		want  string // hex
	}{
		{"int 0", func(b *Builder) { b.Int(ClassUniversal, TagInteger, 0) }, "020100"},
		{"int 127", func(b *Builder) { b.Int(ClassUniversal, TagInteger, 127) }, "02017f"},
		{"int 128", func(b *Builder) { b.Int(ClassUniversal, TagInteger, 128) }, "02020080"},
		{"int 256", func(b *Builder) { b.Int(ClassUniversal, TagInteger, 256) }, "02020100"},
		{"int -1", func(b *Builder) { b.Int(ClassUniversal, TagInteger, -1) }, "0201ff"},
		{"int -128", func(b *Builder) { b.Int(ClassUniversal, TagInteger, -128) }, "020180"},
		{"int -129", func(b *Builder) { b.Int(ClassUniversal, TagInteger, -129) }, "0202ff7f"},
		{"int max", func(b *Builder) { b.Int(ClassUniversal, TagInteger, math.MaxInt64) }, "02087fffffffffffffff"},
		{"int min", func(b *Builder) { b.Int(ClassUniversal, TagInteger, math.MinInt64) }, "02088000000000000000"},
		{"enum ctx", func(b *Builder) { b.Int(ClassContext, 8, 1) }, "880101"},
		{"uint 0", func(b *Builder) { b.Uint(ClassContext, 0, 0) }, "800100"},
		{"uint 2^32-1", func(b *Builder) { b.Uint(ClassContext, 4, math.MaxUint32) }, "840500ffffffff"},
		{"uint 2^64-1", func(b *Builder) { b.Uint(ClassContext, 0, math.MaxUint64) }, "800900ffffffffffffffff"},
		{"uint 2^63", func(b *Builder) { b.Uint(ClassContext, 0, 1<<63) }, "8009008000000000000000"},
		{"bool true", func(b *Builder) { b.Bool(ClassContext, 4, true) }, "8401ff"},
		{"bool false", func(b *Builder) { b.Bool(ClassUniversal, TagBoolean, false) }, "010100"},
		{"null", func(b *Builder) { b.Null(ClassContext, 3) }, "8300"},
		{"octets", func(b *Builder) { b.Primitive(ClassUniversal, TagOctetString, []byte{1, 2}) }, "04020102"},
		{"string", func(b *Builder) { b.String(ClassUniversal, TagUTF8String, "hé") }, "0c0368c3a9"},
		{"oid li-ps", func(b *Builder) { b.OID(ClassContext, 0, OID{0, 4, 0, 2, 2, 5, 1, 33}) }, "80070400020205012" + "1"},
		{"oid 2.999.3", func(b *Builder) { b.OID(ClassUniversal, TagOID, OID{2, 999, 3}) }, "0603883703"},
		{"oid 1.2.840.113549", func(b *Builder) { b.OID(ClassUniversal, TagOID, OID{1, 2, 840, 113549}) }, "06062a864886f70d"},
		{"reloid 5.2.19.3", func(b *Builder) { b.RelativeOID(ClassContext, 0, OID{5, 2, 19, 3}) }, "800405021303"},
		{"reloid big", func(b *Builder) { b.RelativeOID(ClassUniversal, TagRelativeOID, OID{128, 16384}) }, "0d05810081808000"[:0] + "0d058100818000"},
		{"gentime", func(b *Builder) { b.GeneralizedTime(ClassContext, 5, ts) }, "8513" + hex.EncodeToString([]byte("20240301123045.123Z"))},
		{"gentime zone converted", func(b *Builder) { b.GeneralizedTime(ClassContext, 5, ts.In(time.FixedZone("x", 3600))) }, "8513" + hex.EncodeToString([]byte("20240301123045.123Z"))},
		{"utctime", func(b *Builder) { b.UTCTime(ClassContext, 1, ts) }, "810d" + hex.EncodeToString([]byte("240301123045Z"))},
		{"tag 30", func(b *Builder) { b.Null(ClassContext, 30) }, "9e00"},
		{"tag 31", func(b *Builder) { b.Null(ClassContext, 31) }, "9f1f00"},
		{"tag 127", func(b *Builder) { b.Null(ClassContext, 127) }, "9f7f00"},
		{"tag 128", func(b *Builder) { b.Null(ClassContext, 128) }, "9f810000"},
		{"tag 255 constructed", func(b *Builder) { b.Begin(ClassContext, 255); b.End() }, "bf817f00"},
		{"tag 16384", func(b *Builder) { b.Null(ClassPrivate, 16384) }, "df81800000"},
		{"tag max", func(b *Builder) { b.Null(ClassApplication, MaxTag) }, "5f87ffffff7f00"},
		{"application constructed", func(b *Builder) { b.Begin(ClassApplication, 2); b.Null(ClassUniversal, TagNull); b.End() }, "62020500"},
		{"raw", func(b *Builder) { b.Raw([]byte{0x83, 0x00}) }, "8300"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b Builder
			tc.build(&b)
			got, err := b.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != tc.want {
				t.Fatalf("got %x, want %s", got, tc.want)
			}
			if err := Validate(got); err != nil {
				t.Fatalf("own output does not validate: %v", err)
			}
		})
	}
}

func TestBuilderLongLengths(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 255, 256, 65535, 65536, 1 << 20} {
		content := bytes.Repeat([]byte{0xab}, n)
		var b Builder
		b.BeginSequence()
		b.Begin(ClassContext, 2)
		b.Primitive(ClassUniversal, TagOctetString, content)
		b.End()
		b.End()
		got, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		// build the same thing bottom-up with AppendHeader
		inner := AppendHeader(nil, ClassUniversal, false, TagOctetString, n)
		inner = append(inner, content...)
		mid := AppendHeader(nil, ClassContext, true, 2, len(inner))
		mid = append(mid, inner...)
		want := AppendHeader(nil, ClassUniversal, true, TagSequence, len(mid))
		want = append(want, mid...)
		if !bytes.Equal(got, want) {
			t.Fatalf("n=%d: Begin/End result differs from bottom-up encoding (%d vs %d bytes)", n, len(got), len(want))
		}
		if HeaderLen(TagSequence, len(mid)) != len(want)-len(mid) {
			t.Fatalf("n=%d: HeaderLen wrong", n)
		}
		e, err := ParseOne(got)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Content) != len(mid) {
			t.Fatalf("n=%d: parsed content %d, want %d", n, len(e.Content), len(mid))
		}
	}
}

func TestBuilderMisuse(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *Builder)
	}{
		{"end without begin", func(b *Builder) { b.End() }},
		{"open element", func(b *Builder) { b.BeginSequence() }},
		{"too deep", func(b *Builder) {
			for i := 0; i <= MaxBuilderDepth; i++ {
				b.BeginSequence()
			}
		}},
		{"oid one arc", func(b *Builder) { b.OID(ClassUniversal, TagOID, OID{1}) }},
		{"oid first arc 3", func(b *Builder) { b.OID(ClassUniversal, TagOID, OID{3, 1}) }},
		{"oid second arc 40", func(b *Builder) { b.OID(ClassUniversal, TagOID, OID{1, 40}) }},
		{"empty reloid", func(b *Builder) { b.RelativeOID(ClassUniversal, TagRelativeOID, nil) }},
		{"year 10000", func(b *Builder) { b.GeneralizedTime(ClassContext, 1, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) }},
		{"utctime 2050", func(b *Builder) { b.UTCTime(ClassContext, 1, time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)) }},
		{"tag too large", func(b *Builder) { b.Null(ClassContext, MaxTag+1) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b Builder
			tc.build(&b)
			if _, err := b.Bytes(); !errors.Is(err, ErrBuilder) {
				t.Fatalf("err = %v, want ErrBuilder", err)
			}
		})
	}
}

func TestBuilderStickyError(t *testing.T) {
	var b Builder
	b.End()
	b.Null(ClassContext, 1)
	if b.Len() != 0 {
		t.Fatalf("builder wrote %d bytes after an error", b.Len())
	}
	b.Reset(nil)
	b.Null(ClassContext, 1)
	if got, err := b.Bytes(); err != nil || !bytes.Equal(got, []byte{0x81, 0}) {
		t.Fatalf("after Reset: %x, %v", got, err)
	}
}

func TestBuilderNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 4096)
	ts := time.Date(2024, 3, 1, 12, 30, 45, 0, time.UTC)
	oid := OID{0, 4, 0, 2, 2, 5, 1, 33}
	payload := bytes.Repeat([]byte{1}, 300)
	allocs := testing.AllocsPerRun(100, func() {
		var b Builder
		b.Reset(buf[:0])
		b.BeginSequence()
		b.Begin(ClassContext, 1)
		b.OID(ClassContext, 0, oid)
		b.String(ClassContext, 1, "LIID-1")
		b.Uint(ClassContext, 4, 12345)
		b.GeneralizedTime(ClassContext, 5, ts)
		b.End()
		b.Begin(ClassContext, 2)
		b.Primitive(ClassContext, 0, payload)
		b.End()
		b.End()
		if _, err := b.Bytes(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Builder allocates %.1f times per record", allocs)
	}
}
