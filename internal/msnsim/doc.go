// Package msnsim is a live MSNP traffic source for tests, demos and
// benchmarks: a small MSN Messenger service (dispatch server, notification
// server and switchboard, each on its own TCP listener) and scripted clients
// of our own that talk to it over real TCP through the kernel, so that a
// live capture on the interface sees genuine MSNP traffic.
//
// The server (NewServer, Start) accepts any Passport ticket or SSO token and
// implements what the simulator's clients (and a fair part of real clients)
// need: VER/CVR/USR answered by XFR NS on the dispatch server; TWN (MSNP8 to
// 14) or SSO (MSNP15) login, SYN/GTC/BLP, CHG with ILN/NLN/FLN to watching
// contacts, ADD (MSNP8/9), ADC (MSNP10-12) or ADL (MSNP13+) contacts, REA
// (MSNP8/9) or PRP MFN (MSNP10+) nicknames, UUX personal messages with UBX
// to watchers, XFR SB and RNG on the notification server; USR/ANS, CAL with
// JOI and IRO, MSG relay with ACK/NAK, BYE and OUT on the switchboard. Line
// length, payload size, connections, contacts, members and pending cookies
// are bounded; a peer that stops reading is disconnected after
// WriteTimeout, never buffered without limit.
//
// A Client (Dial, Login) is one scripted user speaking MSNP8 to MSNP15 (the
// tests exercise 8, 11, 13 and 15). Invitations (RNG) are answered
// automatically (ANS); every switchboard MSG received lands in the client's
// Inbox channel so that tests wait for delivery instead of sleeping.
//
// RunScenario plays a script of users and steps (login, contacts, chat,
// send at a rate, leave, logout) with a hook before each step, and returns a
// Transcript of what was done and when, from which a test derives the events
// it expects. RunRate drives a steady message rate between two users for
// the latency benchmark and returns the send time of every message keyed by
// the unique marker that starts its body. A Tap records the bytes of client
// connections in both directions; package decodecheck replays a recording
// into a capture.Handler (the decoder, the POI) without root.
//
// msnsim imports only the standard library: the traffic source does not
// depend on the packages it is used to test.
package msnsim
