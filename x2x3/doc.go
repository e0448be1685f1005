// Package x2x3 implements ETSI TS 103 221-2 (X2/X3, PDU version 5): the PDU
// codec with its conditional attributes, a streaming reader for TCP byte
// streams, the TCP/TLS sender (POI side) and receiver (MDF side) with
// keep-alives, and the POI: target matching that turns decoder events of
// active X1 tasks into X2 (IRI) and X3 (content) PDUs handed to a Sink.
package x2x3
