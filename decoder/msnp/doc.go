// Package msnp decodes MSN Messenger (MSNP2 to MSNP18) from reassembled TCP
// byte streams into decoder events.
//
// # Framing
//
// Each direction of a connection has an incremental framer: commands may be
// split at any byte offset or arrive several per segment; lines end in CRLF
// or LF; payload commands (MSG, UUX, UBX, ADL, RML, FQY, GCF, NOT, IPG, QRY,
// UUN, UBN, UUM, UBM and numeric errors of the form "NNN trid len") are read
// by exact byte count. A line longer than Options.MaxLineLength, a length
// that is not a number, negative or above Options.MaxPayload, a line that is
// not a command, and bytes missing from the stream (capture.Conn.Gap) give
// one error event and a resynchronisation: bytes are skipped until a line
// that parses as a known MSNP command. A gap of known size inside a payload
// only loses that command. A stream that ends inside a command gives an
// error event. Error details name the problem, never the bytes. A
// connection first seen mid-session silently skips to its first command.
//
// # Orientation
//
// The capture engine guesses which end is the client when it did not see
// the SYN. The decoder checks the guess against the first line whose shape
// only one side sends (a client "MSG trid N len", a server "MSG passport
// nick len", JOI, IRO, PNG, ...) and swaps client and server if needed.
// Flow is then "clientip:port-serverip:port" of the MSNP client, and Comm
// is decoder.CommID over that orientation and the connection's first packet
// time.
//
// # Events
//
// Every event has Proto "msnp", Time (UTC) of the packet that completed the
// command, Flow, Comm, Client, Server, Role (dispatch, ns, sb) once known,
// FromClient and User, the connection's owner when known. From is the
// sender of a MSG, or the user who joins or leaves a switchboard; To is
// always the other members of the switchboard at that moment, in order of
// joining (the owner counts from its USR/ANS). Per command:
//
//	NS USR ... OK              login. One per connection.
//	NS OUT (either side)       logout. Without one, the NS connection closing
//	                           by FIN, RST or idle timeout gives it; the end
//	                           of a capture file does not. Only for a
//	                           connection whose owner is known.
//	CHG trid status            presence, Status. The server's echo of a
//	                           captured request gives no second event.
//	NLN / ILN                  presence, Contact, Status, Nick (URL-decoded
//	                           friendly name).
//	FLN                        presence, Contact, Status "FLN".
//	ADD / ADC (with N=)        contact_add, Contact. Echo: no second event.
//	ADL payload                one contact_add per <c> (user@domain).
//	REA trid passport nick     nickname, Nick; Contact set when the passport
//	                           is not the owner's. Echo: none.
//	PRP [trid] MFN nick        nickname, Nick. Echo: none.
//	UUX payload with <PSM>     personal_message, Body = the PSM text.
//	UBX payload with <PSM>     personal_message, Contact, Body = PSM.
//	SB USR / ANS (client)      session_start (To: none yet). When the
//	                           client's line was not captured, the server's
//	                           USR/ANS OK gives it; a switchboard first seen
//	                           mid-session gets it at its first MSG, JOI,
//	                           IRO, BYE or CAL. One per connection.
//	IRO, JOI                   session_join, From = Contact = the member.
//	BYE                        session_leave, From = Contact = the leaver.
//	SB OUT (client)            session_leave, From = Contact = the owner.
//	                           Without it (or a BYE naming the owner), the
//	                           switchboard connection closing by FIN or RST
//	                           gives it, at the close time, Detail
//	                           "connection closed without OUT"; the end of
//	                           a capture file, an idle timeout or an
//	                           eviction (which say nothing about the user)
//	                           do not. Only for a connection whose owner is
//	                           known and whose session_start was emitted.
//	CAL, RNG, XFR              no event (they link connections; see below).
//	MSG                        on a switchboard, by Content-Type: text/plain
//	                           message (with Format), text/x-msmsgscontrol
//	                           with TypingUser typing, text/x-msmsgsinvite
//	                           file_invite, application/x-msnmsgrp2p p2p,
//	                           anything else info. From = the owner for a
//	                           client MSG, the named sender for a server MSG.
//	                           On a notification server every MSG is info
//	                           (From = the sender named, e.g. "Hotmail").
//	                           Body, Raw = the whole MIME message,
//	                           ContentType = lower-case media type, Charset
//	                           = its charset parameter as written. A message
//	                           relayed to two captured connections gives one
//	                           event per connection.
//	NNN (server)               info, Detail "msnp: server error NNN".
//
// Body is the MIME body after the blank line converted to UTF-8 from the
// Content-Type charset (golang.org/x/text htmlindex names, e.g. gb2312,
// big5), byte-exact otherwise; bytes invalid in the charset become U+FFFD.
//
// # Session tracking
//
// The owner of a connection comes from the NS USR (I, then OK), the SB USR
// or ANS, or, mid-session, from the TypingUser of a typing notification the
// client sends. Switchboard members come from USR/ANS (owner), IRO, JOI,
// the sender of a server MSG, and the caller of the RNG whose cookie the
// ANS presents; BYE and OUT remove them. The cookies of XFR SB and RNG on a
// notification-server connection link it to the switchboard that presents
// them, so an NS first seen mid-session learns its owner from its
// switchboards. A cookie is forgotten once a switchboard presents it, or
// Options.LinkTTL of packet time after it was given; a link never keeps a
// closed connection, only the inviter's name. All state is bounded by
// Options.
package msnp
