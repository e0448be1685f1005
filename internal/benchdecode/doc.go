// Package benchdecode measures the decoding pipeline (capture.Engine →
// decoder.Mux → decoder/msnp) against its baselines, as issue #2 asks:
// the bare pcapgo + DecodingLayerParser loop (capture.BareLoop), dsniff's
// msgsnarf and tshark.
//
// It holds the Go benchmarks (BenchmarkBareLoop, BenchmarkDecodeEvents,
// BenchmarkDecodeJSON, BenchmarkDecodeVsBareLoop) on a capture generated
// once by internal/msngen and cached, the Decode function they run (what
// `rcds decode --format none|jsonl` does, without the command line), and the
// correctness cross-check against msgsnarf: ParseMsgsnarf reads msgsnarf's
// output and CrossCheck proves that every MSN chat line it printed is among
// our message events. cmd/benchtool is the small program bench/decode.sh
// runs for the bare loop and the cross-check; BENCHMARKS.md has the figures.
package benchdecode
