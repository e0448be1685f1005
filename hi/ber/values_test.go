package ber

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestParseInt64(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{"00", 0, nil},
		{"7f", 127, nil},
		{"0080", 128, nil},
		{"ff", -1, nil},
		{"80", -128, nil},
		{"ff7f", -129, nil},
		{"7fffffffffffffff", math.MaxInt64, nil},
		{"8000000000000000", math.MinInt64, nil},
		{"", 0, ErrMalformed},
		{"0001", 0, ErrMalformed}, // non-minimal
		{"ffff", 0, ErrMalformed}, // non-minimal
		{"ff80", 0, ErrMalformed}, // non-minimal -128
		{"007f", 0, ErrMalformed}, // non-minimal 127
		{"010000000000000000", 0, ErrTooLarge},
	}
	for _, tc := range tests {
		got, err := ParseInt64(unhex(t, tc.in))
		if !errors.Is(err, tc.err) || (tc.err == nil && got != tc.want) {
			t.Errorf("ParseInt64(%s) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseUint64(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		err  error
	}{
		{"00", 0, nil},
		{"00ff", 255, nil},
		{"00ffffffffffffffff", math.MaxUint64, nil},
		{"7fffffffffffffff", math.MaxInt64, nil},
		{"ff", 0, ErrMalformed}, // negative
		{"0000", 0, ErrMalformed},
		{"01ffffffffffffffff", 0, ErrTooLarge},
	}
	for _, tc := range tests {
		got, err := ParseUint64(unhex(t, tc.in))
		if !errors.Is(err, tc.err) || (tc.err == nil && got != tc.want) {
			t.Errorf("ParseUint64(%s) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	// Builder.Uint and ParseUint64 agree on every boundary
	for _, v := range []uint64{0, 1, 127, 128, 255, 256, 1<<32 - 1, 1 << 32, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		enc := AppendUint(nil, ClassContext, 0, v)
		if len(enc) != UintLen(0, v) {
			t.Errorf("UintLen(%d) = %d, encoding has %d", v, UintLen(0, v), len(enc))
		}
		e, err := ParseOne(enc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Uint64()
		if err != nil || got != v {
			t.Errorf("round trip %d: %d, %v", v, got, err)
		}
	}
	for _, v := range []int64{0, -1, 127, -128, 128, -129, math.MaxInt64, math.MinInt64} {
		enc := AppendInt(nil, ClassUniversal, TagInteger, v)
		if len(enc) != IntLen(TagInteger, v) {
			t.Errorf("IntLen(%d) mismatch", v)
		}
		e, _ := ParseOne(enc)
		if got, err := e.Int64(); err != nil || got != v {
			t.Errorf("round trip %d: %d, %v", v, got, err)
		}
	}
}

func TestParseBoolNull(t *testing.T) {
	if v, err := ParseBool([]byte{0x01}); err != nil || !v {
		t.Error("BER BOOLEAN 01 must be true")
	}
	if v, err := ParseBool([]byte{0}); err != nil || v {
		t.Error("00 must be false")
	}
	if _, err := ParseBool(nil); !errors.Is(err, ErrMalformed) {
		t.Error("empty BOOLEAN accepted")
	}
	if _, err := ParseBool([]byte{1, 1}); !errors.Is(err, ErrMalformed) {
		t.Error("two-octet BOOLEAN accepted")
	}
	if err := ParseNull([]byte{0}); !errors.Is(err, ErrMalformed) {
		t.Error("NULL with contents accepted")
	}
}

func TestOIDs(t *testing.T) {
	tests := []struct {
		content string
		want    string
		err     error
	}{
		{"04000202050121", "0.4.0.2.2.5.1.33", nil},
		{"0400020205011100", "0.4.0.2.2.5.1.17.0", nil},
		{"2a864886f70d", "1.2.840.113549", nil},
		{"883703", "2.999.3", nil},
		{"", "", ErrMalformed},
		{"0480", "", ErrMalformed},   // ends inside a sub-identifier
		{"048001", "", ErrMalformed}, // leading 0x80
		{"04ffffffffffffffffff7f", "", ErrTooLarge},
	}
	for _, tc := range tests {
		got, err := ParseOIDContent(unhex(t, tc.content))
		if !errors.Is(err, tc.err) || (tc.err == nil && got.String() != tc.want) {
			t.Errorf("ParseOIDContent(%s) = %s, %v; want %s, %v", tc.content, got, err, tc.want, tc.err)
		}
	}
	rel, err := ParseRelativeOIDContent(unhex(t, "05021303"))
	if err != nil || !rel.Equal(OID{5, 2, 19, 3}) {
		t.Fatalf("relative OID: %v %v", rel, err)
	}
	o, err := ParseOID("0.4.0.2.2.5.1.33")
	if err != nil || !o.HasPrefix(OID{0, 4, 0}) || o.String() != "0.4.0.2.2.5.1.33" {
		t.Fatalf("ParseOID: %v %v", o, err)
	}
	if _, err := ParseOID("1..2"); err == nil {
		t.Fatal("ParseOID accepted an empty arc")
	}
}

func TestGeneralizedTime(t *testing.T) {
	utc := func(y, mo, d, h, mi, s, ns int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"20240301123045.123Z", utc(2024, 3, 1, 12, 30, 45, 123000000), true},
		{"20240301123045Z", utc(2024, 3, 1, 12, 30, 45, 0), true},
		{"20240301123045,5Z", utc(2024, 3, 1, 12, 30, 45, 500000000), true},
		{"20240301123045.123456789123Z", utc(2024, 3, 1, 12, 30, 45, 123456789), true},
		{"202403011230Z", utc(2024, 3, 1, 12, 30, 0, 0), true},
		{"2024030112Z", utc(2024, 3, 1, 12, 0, 0, 0), true},
		{"20240301123045", utc(2024, 3, 1, 12, 30, 45, 0), true}, // local time, taken as UTC
		{"20240301123045+0130", utc(2024, 3, 1, 11, 0, 45, 0), true},
		{"20240301123045.5-0200", utc(2024, 3, 1, 14, 30, 45, 500000000), true},
		{"20240229000000Z", utc(2024, 2, 29, 0, 0, 0, 0), true},
		{"20230229000000Z", time.Time{}, false},
		{"20241301000000Z", time.Time{}, false},
		{"20240301246000Z", time.Time{}, false},
		{"2024030112304Z", time.Time{}, false},
		{"20240301123045.Z", time.Time{}, false},
		{"20240301123045ZZ", time.Time{}, false},
		{"20240301123045+01", time.Time{}, false},
		{"2024-03-01", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tc := range tests {
		got, err := ParseGeneralizedTime([]byte(tc.in))
		if tc.ok != (err == nil) || (tc.ok && !got.Equal(tc.want)) {
			t.Errorf("ParseGeneralizedTime(%q) = %v, %v", tc.in, got, err)
		}
		if !tc.ok && !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseGeneralizedTime(%q): error %v is not ErrMalformed", tc.in, err)
		}
	}
	// writer and reader agree (milliseconds)
	ts := time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	got, err := ParseGeneralizedTime(AppendGeneralizedTime(nil, ts))
	if err != nil || !got.Equal(ts.Truncate(time.Millisecond)) {
		t.Fatalf("round trip: %v %v", got, err)
	}
}

func TestUTCTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"240301123045Z", time.Date(2024, 3, 1, 12, 30, 45, 0, time.UTC), true},
		{"990301123045Z", time.Date(1999, 3, 1, 12, 30, 45, 0, time.UTC), true},
		{"2403011230Z", time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC), true},
		{"240301123045+0100", time.Date(2024, 3, 1, 11, 30, 45, 0, time.UTC), true},
		{"240301123045", time.Time{}, false},
		{"24030112304Z", time.Time{}, false},
	}
	for _, tc := range tests {
		got, err := ParseUTCTime([]byte(tc.in))
		if tc.ok != (err == nil) || (tc.ok && !got.Equal(tc.want)) {
			t.Errorf("ParseUTCTime(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestStringChecks(t *testing.T) {
	if !IsPrintableString("DE") || IsPrintableString("a@b") || IsPrintableString("ü") {
		t.Error("IsPrintableString")
	}
	e, _ := ParseOne([]byte{0x0c, 0x02, 0xc3, 0x28})
	if _, err := e.UTF8(); !errors.Is(err, ErrMalformed) {
		t.Error("invalid UTF-8 accepted")
	}
	e, _ = ParseOne([]byte{0x13, 0x01, '@'})
	if _, err := e.Printable(); !errors.Is(err, ErrMalformed) {
		t.Error("'@' accepted in PrintableString")
	}
}
