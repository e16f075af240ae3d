package zkpull

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/punchbox/punchbox/protocol/zk"
)

// dataset is a table the terminal prepared for reading.
type dataset struct {
	size   uint32 // bytes, the u32 length prefix included
	inline []byte // the whole dataset when the terminal sent it at once
}

// prepare asks the terminal to prepare a table for reading.
func (c *Client) prepare(ctx context.Context, req zk.WRRQ) (dataset, error) {
	p, err := c.exchangeRaw(ctx, zk.CmdDataWRRQ, req.Append(nil))
	if err != nil {
		return dataset{}, err
	}
	switch p.Command {
	case zk.CmdData:
		return dataset{size: uint32(len(p.Data)), inline: append([]byte(nil), p.Data...)}, nil
	case zk.CmdAckOK:
		st, err := zk.ParseDataStat(p.Data)
		if err != nil {
			return dataset{}, fmt.Errorf("prepare dataset: %w", err)
		}
		return dataset{size: st.Size}, nil
	}
	return dataset{}, fmt.Errorf("prepare dataset: %w", zk.CheckReply(zk.CmdDataWRRQ, p.Command))
}

// free releases the terminal's transfer buffer.
func (c *Client) free(ctx context.Context) error {
	_, err := c.Exchange(ctx, zk.CmdFreeData, nil)
	return err
}

// read returns bytes [off, end) of a prepared dataset, in chunks of the
// size clients use on the transport; a chunk that fails on UDP is asked
// for again, up to three times.
func (c *Client) read(ctx context.Context, ds dataset, off, end uint32, dst []byte) ([]byte, error) {
	if ds.inline != nil {
		if end > uint32(len(ds.inline)) || off > end {
			return dst, fmt.Errorf("read dataset [%d, %d): %w", off, end, zk.ErrTruncated)
		}
		return append(dst, ds.inline[off:end]...), nil
	}
	chunk := uint32(zk.TCPChunk)
	if c.udp {
		chunk = zk.UDPChunk
	}
	for off < end {
		n := min(chunk, end-off)
		var err error
		for try := 0; ; try++ {
			var got []byte
			got, err = c.readRange(ctx, zk.ReadRange{Offset: off, Size: n}, dst)
			if err == nil {
				dst = got
				break
			}
			if !c.udp || try == 2 || ctx.Err() != nil {
				return dst, fmt.Errorf("read dataset [%d, %d): %w", off, off+n, err)
			}
		}
		off += n
	}
	return dst, nil
}

// readRange reads one range: either one DATA reply, or PREPARE_DATA, DATA
// packets and ACK_OK, all with the request's reply id.
func (c *Client) readRange(ctx context.Context, r zk.ReadRange, dst []byte) ([]byte, error) {
	start := len(dst)
	p, err := c.exchangeRaw(ctx, zk.CmdDataRDY, r.Append(nil))
	if err != nil {
		return dst[:start], err
	}
	switch p.Command {
	case zk.CmdData:
		if uint32(len(p.Data)) != r.Size {
			return dst[:start], fmt.Errorf("%w: asked for %d bytes, got %d", zk.ErrTruncated, r.Size, len(p.Data))
		}
		return append(dst, p.Data...), nil
	case zk.CmdPrepareData:
	default:
		return dst[:start], zk.CheckReply(zk.CmdDataRDY, p.Command)
	}
	prep, err := zk.ParsePrepareData(p.Data)
	if err != nil {
		return dst[:start], err
	}
	if prep.Size != r.Size {
		return dst[:start], fmt.Errorf("%w: asked for %d bytes, terminal prepares %d", zk.ErrTruncated, r.Size, prep.Size)
	}
	for {
		p, err := c.awaitReply(ctx, zk.CmdDataRDY)
		if err != nil {
			return dst[:start], err
		}
		switch p.Command {
		case zk.CmdData:
			if uint32(len(dst)-start+len(p.Data)) > r.Size {
				return dst[:start], fmt.Errorf("%w: more data than announced", zk.ErrTruncated)
			}
			dst = append(dst, p.Data...)
		case zk.CmdAckOK:
			if got := uint32(len(dst) - start); got != r.Size {
				return dst[:start], fmt.Errorf("%w: got %d of %d bytes", zk.ErrTruncated, got, r.Size)
			}
			return dst, nil
		default:
			return dst[:start], zk.CheckReply(zk.CmdDataRDY, p.Command)
		}
	}
}

// readTable prepares a table, reads all of it and frees the buffer.
func (c *Client) readTable(ctx context.Context, req zk.WRRQ) ([]byte, error) {
	ds, err := c.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	set, err := c.read(ctx, ds, 0, ds.size, make([]byte, 0, ds.size))
	if err != nil {
		return nil, err
	}
	if ds.inline == nil {
		if err := c.free(ctx); err != nil {
			return nil, fmt.Errorf("free transfer buffer: %w", err)
		}
	}
	return set, nil
}

// ReadAttendance reads the whole attendance log. countHint is the record
// count from Sizes (0 when unknown), used to cross-check the record size.
// It returns the records and their size in bytes.
func (c *Client) ReadAttendance(ctx context.Context, countHint int) ([]zk.Attendance, int, error) {
	set, err := c.readTable(ctx, zk.WRRQAttendance)
	if err != nil {
		return nil, 0, fmt.Errorf("read attendance: %w", err)
	}
	log, err := zk.ParseAttendanceLog(set, countHint)
	if err != nil {
		return nil, 0, fmt.Errorf("read attendance: %w", err)
	}
	return log.Records, log.Size, nil
}

// ErrLogChanged means the terminal's log no longer continues the records
// read before: it was cleared or rewritten, and must be read whole.
var ErrLogChanged = fmt.Errorf("attendance log changed since the last read")

// ReadAttendanceFrom reads the records from index from (0-based) to the end
// of the log, whose records are size bytes each, transferring only those.
// The record at from-1 is read too and returned first, so the caller can
// check that the log still continues what it read before. It returns
// ErrLogChanged when the log has fewer than from records or its length is
// not a whole number of records of that size.
func (c *Client) ReadAttendanceFrom(ctx context.Context, from, size int) ([]zk.Attendance, error) {
	if from < 1 || (size != zk.AttSize8 && size != zk.AttSize16 && size != zk.AttSize40) {
		return nil, fmt.Errorf("read attendance from %d: %w", from, zk.ErrRecordSize)
	}
	ds, err := c.prepare(ctx, zk.WRRQAttendance)
	if err != nil {
		return nil, fmt.Errorf("read attendance: %w", err)
	}
	body := int64(ds.size) - 4
	if body < 0 || body%int64(size) != 0 || body/int64(size) < int64(from) {
		if ds.inline == nil {
			c.free(ctx)
		}
		return nil, ErrLogChanged
	}
	off := uint32(4 + (from-1)*size)
	buf, err := c.read(ctx, ds, 0, 4, nil)
	if err == nil && binary.LittleEndian.Uint32(buf) != uint32(body) {
		err = fmt.Errorf("%w: length prefix %d, dataset %d", zk.ErrTruncated, binary.LittleEndian.Uint32(buf), body)
	}
	if err == nil {
		buf, err = c.read(ctx, ds, off, ds.size, buf[:0])
	}
	if err != nil {
		return nil, fmt.Errorf("read attendance: %w", err)
	}
	if ds.inline == nil {
		if err := c.free(ctx); err != nil {
			return nil, fmt.Errorf("free transfer buffer: %w", err)
		}
	}
	return zk.DecodeAttendance(buf, size, nil)
}

// ReadUsers reads every user enrolled on the terminal, with the user record
// size (28 or 72).
func (c *Client) ReadUsers(ctx context.Context, countHint int) ([]zk.User, int, error) {
	set, err := c.readTable(ctx, zk.WRRQUsers)
	if err != nil {
		return nil, 0, fmt.Errorf("read users: %w", err)
	}
	us, err := zk.ParseUserSet(set, countHint)
	if err != nil {
		return nil, 0, fmt.Errorf("read users: %w", err)
	}
	return us.Users, us.Size, nil
}

// WriteUser creates or replaces the user with u's UID. Call Refresh after
// the last write.
func (c *Client) WriteUser(ctx context.Context, u zk.User, size int) error {
	data, err := zk.AppendUser(nil, u, size)
	if err != nil {
		return err
	}
	if _, err := c.Exchange(ctx, zk.CmdUserWRQ, data); err != nil {
		return fmt.Errorf("write user %s: %w", u.UserID, err)
	}
	return nil
}

// RegisterEvents subscribes the session to realtime events (zk.Event*
// bits); 0 unsubscribes.
func (c *Client) RegisterEvents(ctx context.Context, mask uint32) error {
	if _, err := c.Exchange(ctx, zk.CmdRegEvent, binary.LittleEndian.AppendUint32(nil, mask)); err != nil {
		return fmt.Errorf("register events: %w", err)
	}
	return nil
}
