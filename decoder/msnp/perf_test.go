package msnp

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"rcds/capture"
	"rcds/decoder"
)

// BenchmarkPipelineVsBareLoop decodes the capture named by RCDS_PERF_PCAP
// to events (discarded), as `rcds decode --format none` does, alternately
// with capture.BareLoop and a no-op-handler Engine on the same file, and
// reports the throughput ratios (1 means as fast as the bare loop).
func BenchmarkPipelineVsBareLoop(b *testing.B) {
	path := os.Getenv("RCDS_PERF_PCAP")
	if path == "" {
		b.Skip("RCDS_PERF_PCAP not set")
	}
	var bare, eng, full time.Duration
	var cBare, cEng, cFull time.Duration
	var events uint64
	for b.Loop() {
		c0 := cpuTime()
		t0 := time.Now()
		if _, err := capture.BareLoop(path); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		c1 := cpuTime()
		src, err := capture.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := capture.NewEngine(capture.DefaultConfig(), nil).Run(context.Background(), src); err != nil {
			b.Fatal(err)
		}
		src.Close()
		t2 := time.Now()
		c2 := cpuTime()
		src, err = capture.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		n := uint64(0)
		mux := decoder.NewMux(nil, decoder.EmitterFunc(func(*decoder.Event) { n++ }), New(nil, Options{}))
		if err := capture.NewEngine(capture.DefaultConfig(), mux).Run(context.Background(), src); err != nil {
			b.Fatal(err)
		}
		src.Close()
		events = n
		c3 := cpuTime()
		cBare += c1 - c0
		cEng += c2 - c1
		cFull += c3 - c2
		bare += t1.Sub(t0)
		eng += t2.Sub(t1)
		full += time.Since(t2)
	}
	b.ReportMetric(float64(bare)/float64(eng), "engine-ratio")
	b.ReportMetric(float64(bare)/float64(full), "full-ratio")
	b.ReportMetric(float64(bare.Milliseconds())/float64(b.N), "bare-ms")
	b.ReportMetric(float64(eng.Milliseconds())/float64(b.N), "engine-ms")
	b.ReportMetric(float64(full.Milliseconds())/float64(b.N), "full-ms")
	b.ReportMetric(float64(events), "events")
	b.ReportMetric(float64(cBare)/float64(cEng), "engine-cpu-ratio")
	b.ReportMetric(float64(cBare)/float64(cFull), "full-cpu-ratio")
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPipeline is the full pipeline alone, for profiles.
func BenchmarkPipeline(b *testing.B) {
	path := os.Getenv("RCDS_PERF_PCAP")
	if path == "" {
		b.Skip("RCDS_PERF_PCAP not set")
	}
	b.ReportAllocs()
	for b.Loop() {
		src, err := capture.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		mux := decoder.NewMux(nil, decoder.EmitterFunc(func(*decoder.Event) {}), New(nil, Options{}))
		if err := capture.NewEngine(capture.DefaultConfig(), mux).Run(context.Background(), src); err != nil {
			b.Fatal(err)
		}
		src.Close()
	}
}

// BenchmarkEngineOnly is the Engine with a no-op handler, for profiles.
func BenchmarkEngineOnly(b *testing.B) {
	path := os.Getenv("RCDS_PERF_PCAP")
	if path == "" {
		b.Skip("RCDS_PERF_PCAP not set")
	}
	b.ReportAllocs()
	for b.Loop() {
		src, err := capture.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := capture.NewEngine(capture.DefaultConfig(), nil).Run(context.Background(), src); err != nil {
			b.Fatal(err)
		}
		src.Close()
	}
}
