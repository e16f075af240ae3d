package zk

import (
	"errors"
	"fmt"
)

// Sentinel errors of the codec.
var (
	ErrShortPacket   = errors.New("zk: packet shorter than its 8-byte header")
	ErrChecksum      = errors.New("zk: checksum mismatch")
	ErrBadMagic      = errors.New("zk: frame does not start with the 5050827d tag")
	ErrFrameTooLarge = errors.New("zk: frame length over the limit")
	ErrTruncated     = errors.New("zk: data shorter than its length field says")
	ErrRecordSize    = errors.New("zk: cannot tell the record size")
	ErrTimeRange     = errors.New("zk: time outside 2000-2136")
	ErrBadLength     = errors.New("zk: unexpected data length")
	ErrImplausible   = errors.New("zk: implausible record")
)

// ReplyError is a reply code that means failure, returned as an error so
// that callers can test for one code:
//
//	var r zk.ReplyError
//	if errors.As(err, &r) && r.Code == zk.CmdAckUnauth { … }
type ReplyError struct {
	Code Command // the reply code, e.g. CmdAckUnauth
	To   Command // the command it answered
}

func (e ReplyError) Error() string {
	if e.Code == CmdAckUnauth {
		if e.To == CmdAuth {
			return "terminal refused the comm key (ACK_UNAUTH): wrong comm key"
		}
		return fmt.Sprintf("terminal replied ACK_UNAUTH to %s: the session is not authenticated", e.To)
	}
	return fmt.Sprintf("terminal replied %s to %s", e.Code, e.To)
}

// CheckReply returns nil when code is a success reply, otherwise a
// ReplyError for it.
func CheckReply(to, code Command) error {
	if code.Success() {
		return nil
	}
	return ReplyError{Code: code, To: to}
}
