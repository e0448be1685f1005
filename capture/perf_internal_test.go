package capture

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/reassembly"
)

// BenchmarkRecentSetAdd is the cost of remembering the directions of
// closed connections, as one Engine run does on a large capture.
func BenchmarkRecentSetAdd(b *testing.B) {
	ts := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	for b.Loop() {
		r := newRecentSet(16384 * 2)
		for i := range 44000 {
			cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i))
			sv := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 1863)
			r.add(cl, sv, reassembly.Sequence(i), ts)
			r.add(sv, cl, reassembly.Sequence(i), ts)
		}
	}
}

// TestFlushDueMatchesSub checks that Engine.flushDue answers as
// maxTs.Sub(lastFlush) >= FlushInterval, including around the deadline and
// for times whose difference overflows a Duration.
func TestFlushDueMatchesSub(t *testing.T) {
	base := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	times := []time.Time{
		{}, base, base.Add(-time.Nanosecond), base.Add(time.Nanosecond),
		base.Add(time.Second - 1), base.Add(time.Second), base.Add(time.Second + 1),
		base.Add(-time.Hour), base.Add(200 * 365 * 24 * time.Hour).Add(200 * 365 * 24 * time.Hour),
		time.Unix(1<<62, 0), time.Unix(-1<<62, 0), time.Unix(1<<62, 0).Add(-time.Second),
		time.Now(), time.Now().Add(time.Second), base.In(time.FixedZone("x", 3600)),
	}
	for _, iv := range []time.Duration{time.Second, time.Nanosecond, 1<<63 - 1} {
		e := &Engine{cfg: Config{FlushInterval: iv}}
		for _, last := range times {
			for _, maxTs := range times {
				e.lastFlush, e.maxTs = last, maxTs
				if got, want := e.flushDue(), maxTs.Sub(last) >= iv; got != want {
					t.Errorf("interval %v, lastFlush %v, maxTs %v: flushDue %v, want %v", iv, last, maxTs, got, want)
				}
			}
		}
	}
}
