// Package x2x3 implements ETSI TS 103 221-2 (X2/X3, PDU version 5): the PDU
// codec with its conditional attributes, a streaming reader for TCP byte
// streams, the TCP/TLS sender (POI side) and receiver (MDF side) with
// keep-alives, and the POI: target matching that turns decoder events of
// active X1 tasks into X2 (IRI) and X3 (content) PDUs handed to a Sink.
//
// The codec is PDU.AppendBinary / Unmarshal and Reader for streams. A
// Sender is the Sink that delivers to an MDF over TCP or TLS: it buffers
// (bounded) while the MDF is away, reconnects with backoff, and keeps each
// PDU until a keep-alive sent after it is acknowledged; a Receiver serves
// POI connections for an MDF's Handler and acknowledges a keep-alive only
// once the Handler has flushed. FileSink writes the raw PDU stream to a
// file. README.md describes the wire format, the delivery semantics
// (including the duplicates a reconnect can cause) and the third-party
// examples we read.
package x2x3
