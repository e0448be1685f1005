// Package decodecheck connects the MSNP simulator to the capture and
// decoder packages without root: Replay feeds the bytes a msnsim.Tap
// recorded on the simulator's client connections to any capture.Handler
// (decoder.Mux with msnp.New, the POI) as if a live capture had seen and
// reassembled them. Its tests prove that the simulator speaks MSNP the
// project's decoder understands. It is separate from msnsim so that the
// traffic source itself depends on nothing it is used to test.
package decodecheck
