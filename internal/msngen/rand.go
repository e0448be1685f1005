package msngen

import "math/bits"

// rng is a small deterministic generator (SplitMix64). The generator does
// not use math/rand so that a seed produces the same capture with every Go
// release: the golden digests in the tests depend on it.
type rng struct{ s uint64 }

func newRNG(seed int64) *rng { return &rng{s: uint64(seed) ^ 0x9e3779b97f4a7c15} }

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n <= 0 gives 0.
func (r *rng) intn(n int) int {
	if n <= 1 {
		return 0
	}
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.intn(hi-lo+1)
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	if p >= 1 {
		return true
	}
	return float64(r.u64()>>11)/(1<<53) < p
}

func (r *rng) u32() uint32 { return uint32(r.u64() >> 32) }

// pick returns a random element of s (s must not be empty).
func pick[T any](r *rng, s []T) T { return s[r.intn(len(s))] }
