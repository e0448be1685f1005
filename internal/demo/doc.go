// Package demo is `rcds demo`: the whole system in one process on
// loopback, fed with a generated capture, showing and checking what the
// LEMF receives.
//
// Stack is the set of `rcds serve` components (X1 endpoint and registry,
// POI, MDF, with X2/X3 handed over in-process) that the demo and the live
// end-to-end test start. Script is the demo's scenario: the target chats
// with two contacts (in English and Chinese, UTF-8 and GB2312) while two
// of them also talk without her and background users chat among
// themselves. Run generates the capture with internal/msngen, starts a
// Stack and a LEMF, provisions two destinations and a task through the
// real X1 client over mutual TLS with a fresh demo PKI, replays the
// capture, waits until the LEMF has confirmed every record, prints the
// records and a summary, and checks that every text message of the target
// arrived and that no byte received names anyone who never talked with
// her, nor carries a message she was not part of.
package demo
