package hi

import (
	"encoding/binary"
	"errors"
	"time"

	"rcds/hi/etsi"
)

// A queued record is the complete, encoded PS-PDU as it goes on the wire,
// behind a small header the delivery worker needs without decoding BER:
//
//	offset size
//	 0      1   format version (1)
//	 1      1   kind: 1 IRI, 2 CC (etsi.PayloadKind)
//	 2      4   PSHeader sequence number
//	 6      4   CIN
//	10      8   receipt time of the X2/X3 PDU, Unix nanoseconds
//	18      1   length n of the LIID
//	19      n   LIID
//	19+n    …   the PS-PDU
//
// Re-sends after a reconnect or a restart write the stored PS-PDU again,
// so they are byte-identical to the first transmission.
const recordVersion = 1

var errBadRecord = errors.New("hi: bad queued record")

type recordMeta struct {
	kind     etsi.PayloadKind
	seq      uint32
	cin      uint32
	received time.Time
	liid     string
}

// recordHeaderLen is the header length for a LIID of n bytes.
func recordHeaderLen(n int) int { return 19 + n }

// appendRecordHeader appends the header; the PS-PDU follows.
func appendRecordHeader(dst []byte, m *recordMeta) []byte {
	dst = append(dst, recordVersion, byte(m.kind))
	dst = binary.BigEndian.AppendUint32(dst, m.seq)
	dst = binary.BigEndian.AppendUint32(dst, m.cin)
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.received.UnixNano()))
	dst = append(dst, byte(len(m.liid)))
	return append(dst, m.liid...)
}

// parseRecord splits a queued record into its header and PS-PDU.
func parseRecord(b []byte) (recordMeta, []byte, error) {
	var m recordMeta
	if len(b) < 19 || b[0] != recordVersion {
		return m, nil, errBadRecord
	}
	m.kind = etsi.PayloadKind(b[1])
	m.seq = binary.BigEndian.Uint32(b[2:])
	m.cin = binary.BigEndian.Uint32(b[6:])
	m.received = time.Unix(0, int64(binary.BigEndian.Uint64(b[10:])))
	n := int(b[18])
	if len(b) < 19+n+2 {
		return m, nil, errBadRecord
	}
	m.liid = string(b[19 : 19+n])
	return m, b[19+n:], nil
}
