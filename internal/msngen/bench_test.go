package msngen_test

import (
	"io"
	"testing"

	"rcds/decoder"
	"rcds/internal/msngen"
)

// BenchmarkGenerate measures the generator's throughput (capture bytes per
// second, reported as MB/s), without and with expected events.
func BenchmarkGenerate(b *testing.B) {
	for _, bc := range []struct {
		name   string
		opt    msngen.Options
		expect bool
	}{
		{"mixed", msngen.Options{Seed: 1, TargetBytes: 64 << 20, Concurrency: 100, Noise: 0.2}, false},
		{"mixed-expect", msngen.Options{Seed: 1, TargetBytes: 64 << 20, Concurrency: 100, Noise: 0.2}, true},
		{"all-pathologies", msngen.Options{Seed: 1, TargetBytes: 64 << 20, Concurrency: 100, Seg: msngen.Segmentation{Flags: msngen.AllSeg}}, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n int64
			var ex func(*decoder.Event)
			if bc.expect {
				ex = func(*decoder.Event) {}
			}
			for b.Loop() {
				res, err := msngen.Generate(io.Discard, bc.opt, ex)
				if err != nil {
					b.Fatal(err)
				}
				n = res.Bytes
			}
			b.SetBytes(n)
		})
	}
}
