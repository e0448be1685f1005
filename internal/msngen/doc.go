// Package msngen generates MSN Messenger (MSNP) captures of the project's
// own, with the events a decoder must report for them.
//
// Generate writes pcap or pcapng: realistic MSNP sessions (dispatch and NS
// logins with MD5, TWN or SSO authentication for MSNP2 to MSNP18, contact
// lists, presence, nick and personal-message changes, switchboards with two
// or more participants, text in several scripts and one legacy charset,
// typing notifications, file invitations, P2P) mixed with non-MSN noise,
// with controlled TCP segmentation (split, coalesced, reordered,
// retransmitted and overlapping segments, connections without handshake).
// The same Options always give byte-identical output; memory depends on
// Options.Concurrency, not on the size of the capture.
//
// The expected events follow the event conventions of DESIGN.md; the exact
// rules per command are in EVENTS.md beside this file. The test
// TestDecodeMatchesExpected checks, for every segmentation pathology and
// every MSNP version, that capture → decoder.Mux → decoder/msnp reports
// exactly them; `rcds decode` of a generated capture prints the same JSON
// lines as `rcds gen --expect`.
//
// # Typical uses
//
//	rcds gen --size 1GiB --noise 0.3 --out mixed.pcap           # benchmark capture
//	rcds gen --sessions 20000 --concurrency 10000 --out c10k.pcap # 10,000 sessions open at once
//	rcds gen --sessions 30 --seg all --out s.pcap --expect s.jsonl
//
//	// POI test: a busy capture where 2 of 20 users are targets.
//	msngen.Generate(w, msngen.Options{Users: 20, Sessions: 40, Concurrency: 10,
//		Noise: 0.2, Targets: []string{msngen.Passport(3), msngen.Passport(11)}}, nil)
//
//	// Demo: a script (the target chats with a few people) among
//	// unrelated sessions and noise.
//	msngen.Generate(w, msngen.Options{Script: script, Sessions: 6, Noise: 0.3}, expect)
//
// # Layers
//
// The package has two layers, so that the conversations can also be
// played over real sockets:
//
//   - The transcript layer: a Script (Users and Actions: log in, chat,
//     leave...) or the random planner is expanded by a Conversation into
//     Steps: a connection opens, one side sends a burst of Commands, a
//     connection closes. Each Command carries its bytes and the events a
//     decoder must report when its last byte arrives (all fields but Time
//     and Comm). NewConversation(script, seed) and Conversation.Next give
//     this transcript to any player.
//   - The wire layer (unexported): turns Steps into Ethernet/IP/TCP
//     packets with consistent sequence numbers, valid checksums and the
//     segmentation pathologies asked for, stamps them with a deterministic
//     clock, writes pcap or pcapng, and simulates the receiver's TCP
//     reassembly to stamp each event with the time of the packet that made
//     its command's bytes contiguous.
//
// A live replay opens a TCP connection for each StepOpen (the client side
// dials a listener that plays the server side), writes each StepSend's
// Commands from the side FromClient says, in order, and closes on
// StepClose; it sets Time and Comm (decoder.CommID of its own endpoints and
// first packet time) itself, and maps Flow, Client and Server to its own
// addresses.
package msngen
