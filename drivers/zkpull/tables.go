package zkpull

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/punchbox/punchbox/protocol/zk"
)

// ReadLog reads the whole attendance log. count is the record count from
// Sizes (0 when unknown), which the record size must agree with. Records
// that cannot be punches are in the log, in place, for the caller to set
// aside (see zk.AttendanceLog). A log in no record form is refused: the
// error is a refusal, and the session can go on.
func (c *Client) ReadLog(ctx context.Context, count int) (zk.AttendanceLog, error) {
	set, err := c.readTable(ctx, zk.WRRQAttendance)
	if err != nil {
		return zk.AttendanceLog{}, fmt.Errorf("read attendance: %w", err)
	}
	log, err := zk.ParseAttendanceLog(set, count)
	if err != nil {
		return zk.AttendanceLog{}, refused(fmt.Errorf("read attendance: %w", err))
	}
	return log, nil
}

// ReadAttendance is ReadLog's records and record size in bytes.
func (c *Client) ReadAttendance(ctx context.Context, count int) ([]zk.Attendance, int, error) {
	log, err := c.ReadLog(ctx, count)
	return log.Records, log.Size, err
}

// ErrLogChanged means the terminal's log no longer continues the records
// read before: it was cleared or rewritten, and must be read whole.
var ErrLogChanged = errors.New("attendance log changed since the last read")

// ReadAttendanceFrom reads the records from index from (0-based) to the end
// of the log, whose records are size bytes each, transferring only those.
// The record at from-1 is read too and comes first, so the caller can check
// that the log still continues what it read before. Bytes after the last
// whole record are the log's Trailing. It returns ErrLogChanged when the log
// has fewer than from whole records.
func (c *Client) ReadAttendanceFrom(ctx context.Context, from, size int) (zk.AttendanceLog, error) {
	if from < 1 || (size != zk.AttSize8 && size != zk.AttSize16 && size != zk.AttSize40) {
		return zk.AttendanceLog{}, fmt.Errorf("read attendance from %d: %w", from, zk.ErrRecordSize)
	}
	ds, err := c.prepare(ctx, zk.WRRQAttendance)
	if err != nil {
		return zk.AttendanceLog{}, fmt.Errorf("read attendance: %w", err)
	}
	body := int64(ds.size) - 4
	if body/int64(size) < int64(from) {
		if ds.inline == nil {
			c.free(ctx)
		}
		return zk.AttendanceLog{}, ErrLogChanged
	}
	off := uint32(4 + (from-1)*size)
	buf, err := c.read(ctx, ds, 0, 4, nil)
	if err == nil && binary.LittleEndian.Uint32(buf) != uint32(body) {
		err = refused(fmt.Errorf("%w: length prefix %d, dataset %d", zk.ErrTruncated, binary.LittleEndian.Uint32(buf), body))
	}
	if err == nil {
		buf, err = c.read(ctx, ds, off, ds.size, buf[:0])
	}
	if err != nil {
		if ds.inline == nil && isRefused(err) {
			c.free(ctx)
		}
		return zk.AttendanceLog{}, fmt.Errorf("read attendance: %w", err)
	}
	if ds.inline == nil {
		if err := c.free(ctx); err != nil {
			return zk.AttendanceLog{}, fmt.Errorf("free transfer buffer: %w", err)
		}
	}
	return zk.DecodeAttendanceLog(buf, size)
}

// ReadUserSet reads every user enrolled on the terminal. count is the user
// count from Sizes (0 when unknown). Records that cannot be users are left
// out and counted in the set.
func (c *Client) ReadUserSet(ctx context.Context, count int) (zk.UserSet, error) {
	set, err := c.readTable(ctx, zk.WRRQUsers)
	if err != nil {
		return zk.UserSet{}, fmt.Errorf("read users: %w", err)
	}
	us, err := zk.ParseUserSet(set, count)
	if err != nil {
		return zk.UserSet{}, refused(fmt.Errorf("read users: %w", err))
	}
	return us, nil
}

// ReadUsers is ReadUserSet's users and user record size (28 or 72).
func (c *Client) ReadUsers(ctx context.Context, count int) ([]zk.User, int, error) {
	us, err := c.ReadUserSet(ctx, count)
	return us.Users, us.Size, err
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
