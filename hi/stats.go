package hi

import (
	"math"
	"sync/atomic"
	"time"
)

// histogram is a lock-free log-scale latency histogram: 8 buckets per
// power of two from 1µs to about 2^27µs (134 s); values outside are
// clamped. Quantiles are accurate to about 9%.
type histogram struct {
	buckets [histBuckets]atomic.Uint64
	count   atomic.Uint64
	sumNs   atomic.Uint64
	maxNs   atomic.Uint64
}

const (
	histPerOctave = 8
	histOctaves   = 28
	histBuckets   = histPerOctave*histOctaves + 1
)

func histIndex(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	i := int(math.Log2(us)*histPerOctave) + 1
	return min(i, histBuckets-1)
}

// histUpper is the upper bound of bucket i.
func histUpper(i int) time.Duration {
	if i == 0 {
		return time.Microsecond
	}
	return time.Duration(math.Exp2(float64(i)/histPerOctave) * float64(time.Microsecond))
}

func (h *histogram) observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.buckets[histIndex(d)].Add(1)
	h.count.Add(1)
	h.sumNs.Add(uint64(d))
	for {
		m := h.maxNs.Load()
		if uint64(d) <= m || h.maxNs.CompareAndSwap(m, uint64(d)) {
			break
		}
	}
}

// LatencySummary summarises a latency distribution.
type LatencySummary struct {
	Count         uint64
	Mean          time.Duration
	P50, P90, P99 time.Duration // upper bounds of the buckets holding them
	Max           time.Duration
}

func (h *histogram) summary() LatencySummary {
	var counts [histBuckets]uint64
	var n uint64
	for i := range h.buckets {
		counts[i] = h.buckets[i].Load()
		n += counts[i]
	}
	s := LatencySummary{Count: n, Max: time.Duration(h.maxNs.Load())}
	if n == 0 {
		return s
	}
	s.Mean = time.Duration(h.sumNs.Load() / max(h.count.Load(), 1))
	q := func(f float64) time.Duration {
		want := uint64(math.Ceil(f * float64(n)))
		var acc uint64
		for i, c := range counts {
			acc += c
			if acc >= want {
				return min(histUpper(i), s.Max)
			}
		}
		return s.Max
	}
	s.P50, s.P90, s.P99 = q(0.50), q(0.90), q(0.99)
	return s
}
