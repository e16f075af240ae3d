package central

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/punchbox/punchbox/store"
)

// Payload schemas. A consumer checks the schema field before anything
// else; a change that breaks consumers gets a new number.
const (
	SchemaPunches   = "punchbox.punches/1"
	SchemaStatus    = "punchbox.status/1"
	SchemaTerminal  = "punchbox.terminal/1"
	SchemaEvent     = "punchbox.event/1"
	SchemaCmdResult = "punchbox.cmd-result/1"
	SchemaAck       = "punchbox.ack/1"
)

// batchHeader is what a punches message says about itself.
type batchHeader struct {
	Site, Box  string
	Epoch      string // the numbering batch and seq numbers belong to
	Session    int64
	Batch      int64
	Historical bool
	Resend     string // request id of the resend command, if any
	Sent       time.Time
}

// appendBatch appends a punches message. It is written by hand rather than
// by encoding/json: the back-fill after a long outage encodes millions of
// punches on a Pi. A test checks it against encoding/json and the schema.
func appendBatch(b []byte, h batchHeader, ps []store.StoredPunch) []byte {
	b = append(b, `{"schema":"`+SchemaPunches+`","site":`...)
	b = appendString(b, h.Site)
	b = append(b, `,"box":`...)
	b = appendString(b, h.Box)
	if h.Epoch != "" {
		b = append(b, `,"epoch":`...)
		b = appendString(b, h.Epoch)
	}
	b = append(b, `,"session":`...)
	b = strconv.AppendInt(b, h.Session, 10)
	b = append(b, `,"batch":`...)
	b = strconv.AppendInt(b, h.Batch, 10)
	b = append(b, `,"historical":`...)
	b = strconv.AppendBool(b, h.Historical)
	if h.Resend != "" {
		b = append(b, `,"resend":`...)
		b = appendString(b, h.Resend)
	}
	b = append(b, `,"sent":"`...)
	b = h.Sent.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","count":`...)
	b = strconv.AppendInt(b, int64(len(ps)), 10)
	b = append(b, `,"punches":[`...)
	for i := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPunch(b, &ps[i])
	}
	return append(b, "]}"...)
}

// appendPunch appends one punch. The store validated it when it was put;
// its strings are clamped all the same, as every published string is.
func appendPunch(b []byte, p *store.StoredPunch) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, p.ID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, p.Seq, 10)
	b = append(b, `,"terminal":`...)
	b = appendString(b, clampString(p.TerminalID, maxName))
	b = append(b, `,"serial":`...)
	b = appendString(b, clampString(p.TerminalSerial, maxName))
	b = append(b, `,"pin":`...)
	b = appendString(b, clampString(p.PIN, maxName))
	b = append(b, `,"local_time":"`...)
	b = append(b, p.Local.String()...)
	b = append(b, `","zone":`...)
	b = appendString(b, clampString(p.Zone, maxName))
	b = append(b, `,"time":"`...)
	b = p.Time.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","received":"`...)
	b = p.Received.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","state":{"code":`...)
	b = strconv.AppendInt(b, int64(p.State.Code()), 10)
	b = append(b, `,"name":`...)
	b = appendString(b, p.State.String())
	b = append(b, `},"verify":{"code":`...)
	b = strconv.AppendInt(b, int64(p.Verify.Code()), 10)
	b = append(b, `,"name":`...)
	b = appendString(b, p.Verify.String())
	b = append(b, `},"work_code":`...)
	b = appendString(b, clampString(p.WorkCode, maxName))
	b = append(b, `,"source":`...)
	b = appendString(b, clampString(string(p.Source), maxName))
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping what JSON requires and
// replacing invalid UTF-8, as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
