package msngen

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// domains are made-up mail domains (reserved names only).
var domains = [...]string{"example.com", "example.net", "example.org", "hotmail.example", "msn.example"}

// Passport returns the i-th passport of the generator's pool:
// user000@example.com, user001@example.net, ... Tests use it to name
// targets among Options.Users.
func Passport(i int) string {
	return fmt.Sprintf("user%03d@%s", i, domains[i%len(domains)])
}

// nickBank are friendly names; some need URL encoding (spaces, non-ASCII,
// '%', '+', '&').
var nickBank = [...]string{
	"Alice", "Bob Smith", "小明", "Маша", "Tom & Jerry", "☀ Sunny ☀", "José Ñúñez",
	"李华", "Дима (work)", "Kate :)", "mr. anderson", "100% fun", "C++ guy", "山本 花子",
	"Ελένη", "😀 Happy", "[away] Zoe", "Ολυμπία", "王芳", "Sergey_K",
}

// NickOf returns the friendly name the generator gives a passport that is
// not otherwise named (stable for the passport).
func nickOf(passport string) string {
	h := uint32(2166136261)
	for i := 0; i < len(passport); i++ {
		h ^= uint32(passport[i])
		h *= 16777619
	}
	return nickBank[h%uint32(len(nickBank))]
}

var textBank = [...]string{
	"hi",
	"hey, how are you?",
	"see you tomorrow at 5",
	"did you get the file I sent?",
	"lol",
	"brb",
	"ok :)",
	"what's up",
	"I'll call you later, the meeting moved to room 4B.",
	"can you send me the report before friday? thanks!",
	"你好",
	"今天天气很好，我们去公园吧。",
	"我们明天见",
	"你吃饭了吗？",
	"这个文件很大，请稍等。",
	"谢谢你的帮助！",
	"Привет",
	"Как дела?",
	"Увидимся завтра в восемь.",
	"Спасибо, всё получил.",
	"😀",
	"👍 sounds good",
	"🎉 party time 🎉",
	"❤️ miss you",
	"first line\r\nsecond line\r\nthird line",
	"price is 100% + tax & shipping <b>not</b> included",
	"ελληνικά: καλημέρα",
	"tab\there and trailing spaces  ",
}

// gbBank holds texts made only of GB2312 characters (sent with
// charset=gb2312).
var gbBank = [...]string{
	"你好，今天天气很好。",
	"我们明天下午三点见面。",
	"请把文件发给我，谢谢！",
}

var fontBank = [...]struct{ name, cs, pf string }{
	{"Segoe UI", "0", "0"},
	{"MS Sans Serif", "0", "22"},
	{"Arial", "0", "22"},
	{"微软雅黑", "86", "2"},
	{"Times New Roman", "0", "18"},
	{"Tahoma", "1", "22"},
}

var effects = [...]string{"", "", "B", "I", "BI", "U"}
var colors = [...]string{"0", "0", "ff", "800080", "ff0000", "8000"}

// randomText returns a chat line of one to several phrases; long ones are
// longer than a segment.
func randomText(r *rng) string {
	n := 1
	switch x := r.intn(100); {
	case x < 60:
	case x < 90:
		n = r.between(2, 4)
	default:
		n = r.between(10, 40)
	}
	if n == 1 {
		return pick(r, textBank[:])
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(pick(r, textBank[:]))
	}
	return b.String()
}

// urlEncode encodes s the way MSN clients encode friendly names: every
// byte but ASCII letters, digits and -._~ as %XX.
func urlEncode(s string) string {
	const hex = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// xmlReplacer is immutable once built (strings.Replacer is safe for
// concurrent use).
var xmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "'", "&apos;")

// xmlEscape escapes text for an XML element.
func xmlEscape(s string) string {
	if !strings.ContainsAny(s, "<>&\"'") {
		return s
	}
	return xmlReplacer.Replace(s)
}

// encodeGB2312 encodes UTF-8 text made of GB2312 characters.
func encodeGB2312(s string) ([]byte, error) {
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("msngen: encode gb2312: %w", err)
	}
	return b, nil
}

// mime is one MIME message of a MSG command, with what the decoder is
// expected to report about it.
type mime struct {
	raw         []byte // headers, blank line, body as on the wire
	body        string // expected body, UTF-8
	contentType string // lower-case, no parameters
	charset     string // as named in Content-Type
	format      *formatSpec
}

type formatSpec struct{ font, effects, color, charset, pitch string }

func textMIME(r *rng, text string, legacy bool) (mime, error) {
	f := pick(r, fontBank[:])
	fs := &formatSpec{font: f.name, effects: pick(r, effects[:]), color: pick(r, colors[:]), charset: f.cs, pitch: f.pf}
	charset := "UTF-8"
	wire := []byte(text)
	if legacy {
		charset = "gb2312"
		fs.charset = "86"
		var err error
		if wire, err = encodeGB2312(text); err != nil {
			return mime{}, err
		}
	}
	var b strings.Builder
	b.Grow(160 + len(wire))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=")
	b.WriteString(charset)
	b.WriteString("\r\nX-MMS-IM-Format: FN=")
	b.WriteString(urlEncode(fs.font))
	b.WriteString("; EF=")
	b.WriteString(fs.effects)
	b.WriteString("; CO=")
	b.WriteString(fs.color)
	b.WriteString("; CS=")
	b.WriteString(fs.charset)
	b.WriteString("; PF=")
	b.WriteString(fs.pitch)
	b.WriteString("\r\n\r\n")
	b.Write(wire)
	return mime{raw: []byte(b.String()), body: text, contentType: "text/plain", charset: charset, format: fs}, nil
}

func typingMIME(passport string) mime {
	raw := "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: " + passport + "\r\n\r\n\r\n"
	return mime{raw: []byte(raw), body: "\r\n", contentType: "text/x-msmsgscontrol"}
}

var fileBank = [...]string{"photo.jpg", "report 2006.doc", "简历.pdf", "song.mp3", "notes.txt"}

func inviteMIME(r *rng) mime {
	body := "Application-Name: File Transfer\r\n" +
		"Application-GUID: {5D3E02AB-6190-11d3-BBBB-00C04F795683}\r\n" +
		"Invitation-Command: INVITE\r\n" +
		"Invitation-Cookie: " + strconv.Itoa(r.between(1000, 99999)) + "\r\n" +
		"Application-File: " + pick(r, fileBank[:]) + "\r\n" +
		"Application-FileSize: " + strconv.Itoa(r.between(100, 5000000)) + "\r\n" +
		"Connectivity: N\r\n\r\n"
	raw := "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\n" + body
	return mime{raw: []byte(raw), body: body, contentType: "text/x-msmsgsinvite", charset: "UTF-8"}
}

// p2pMIME is the first P2P message of a display-picture transfer: a
// 48-byte binary header, an MSNSLP INVITE and the 4-byte footer. Every
// binary field is chosen below 0x80 so that the body is valid UTF-8 and
// survives JSON unchanged.
func p2pMIME(r *rng, from, to string) mime {
	slp := "INVITE MSNMSGR:" + to + " MSNSLP/1.0\r\n" +
		"To: <msnmsgr:" + to + ">\r\n" +
		"From: <msnmsgr:" + from + ">\r\n" +
		"Via: MSNSLP/1.0/TLP ;branch={33517CE4-02FC-4428-B6F4-39927229B722}\r\n" +
		"CSeq: 0 \r\n" +
		"Call-ID: {9D79AE57-1BD5-444B-B14E-3FC9BB2B5D58}\r\n" +
		"Max-Forwards: 0\r\n" +
		"Content-Type: application/x-msnmsgr-sessionreqbody\r\n" +
		"Content-Length: 4\r\n\r\n" +
		"\r\n\r\n\x00"
	var hdr [48]byte
	put32 := func(off int, v uint32) {
		hdr[off] = byte(v)
		hdr[off+1] = byte(v >> 8)
		hdr[off+2] = byte(v >> 16)
		hdr[off+3] = byte(v >> 24)
	}
	put32(4, uint32(r.between(1, 0x7f))<<16|uint32(r.between(1, 0x7f))) // identifier
	put32(16, uint32(len(slp)))                                         // total size (low dword)
	put32(24, uint32(len(slp)))                                         // message length
	put32(32, uint32(r.between(1, 0x7f))<<8)                            // ack identifier
	body := string(hdr[:]) + slp + "\x00\x00\x00\x00"
	raw := "MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: " + to + "\r\n\r\n" + body
	return mime{raw: []byte(raw), body: body, contentType: "application/x-msnmsgrp2p"}
}

// profileMIME is the NS profile message sent right after login.
func profileMIME(r *rng, loginTime int64) mime {
	raw := "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\n" +
		"LoginTime: " + strconv.FormatInt(loginTime, 10) + "\r\n" +
		"EmailEnabled: 1\r\nMemberIdHigh: " + strconv.Itoa(r.between(1000, 99999)) +
		"\r\nMemberIdLow: -" + strconv.Itoa(r.between(100000000, 999999999)) +
		"\r\nlang_preference: 1033\r\npreferredEmail: \r\ncountry: US\r\nPostalCode: \r\nGender: \r\n" +
		"Kid: 0\r\nAge: \r\nBDayPre: \r\nBirthday: \r\nWallet: \r\nFlags: 1027\r\nsid: 507\r\n" +
		"MSPAuth: " + strings.Repeat("x", 40) + "$$\r\nClientIP: 10.0.0.1\r\nClientPort: 6235\r\n" +
		"ABCHMigrated: 1\r\n\r\n"
	return mime{raw: []byte(raw), body: "", contentType: "text/x-msmsgsprofile", charset: "UTF-8"}
}

// emailMIME is the NS initial e-mail notification.
func emailMIME(r *rng) mime {
	body := "Inbox-Unread: " + strconv.Itoa(r.between(0, 30)) + "\r\nFolders-Unread: 0\r\n" +
		"Inbox-URL: /cgi-bin/HoTMaiL\r\nFolders-URL: /cgi-bin/folders\r\nPost-URL: http://mail.example.com\r\n\r\n"
	raw := "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinitialemailnotification; charset=UTF-8\r\n\r\n" + body
	return mime{raw: []byte(raw), body: body, contentType: "text/x-msmsgsinitialemailnotification", charset: "UTF-8"}
}

// capsMIME is the text/x-clientcaps message some clients send on a
// switchboard.
func capsMIME() mime {
	body := "Client-Name: Gaim/1.5.0\r\nChat-Logging: Y\r\n"
	raw := "MIME-Version: 1.0\r\nContent-Type: text/x-clientcaps\r\n\r\n" + body
	return mime{raw: []byte(raw), body: body, contentType: "text/x-clientcaps"}
}
