package zkpull

import (
	"context"
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
		bound, why := tableBound(req, c.sizes, c.sizesKnown)
		if st.Size > bound || st.Size < 4 {
			c.free(ctx) // best effort: the terminal holds the buffer otherwise
			if st.Size < 4 {
				return dataset{}, refused(fmt.Errorf("prepare %s: %w: a dataset of %d bytes has no length", tableName(req), zk.ErrTruncated, st.Size))
			}
			return dataset{}, refused(fmt.Errorf("prepare %s: %w: %d bytes announced, over the bound of %d bytes (%s)",
				tableName(req), ErrTooLarge, st.Size, bound, why))
		}
		return dataset{size: st.Size}, nil
	}
	return dataset{}, fmt.Errorf("prepare dataset: %w", zk.CheckReply(zk.CmdDataWRRQ, p.Command))
}

// tableName names the table a request reads, for messages.
func tableName(req zk.WRRQ) string {
	switch {
	case req.Command == zk.CmdAttLogRRQ:
		return "attendance"
	case req.Command == zk.CmdUserTempRRQ && req.Fct == zk.FctUser:
		return "users"
	}
	return fmt.Sprintf("table %s/%d", req.Command, req.Fct)
}

// free releases the terminal's transfer buffer.
func (c *Client) free(ctx context.Context) error {
	_, err := c.Exchange(ctx, zk.CmdFreeData, nil)
	return err
}

// read appends bytes [off, end) of a prepared dataset to dst, in chunks of
// the size clients use on the transport; a chunk that fails on UDP is
// asked for again, up to three times. dst grows as the data arrives.
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
	set, err := c.read(ctx, ds, 0, ds.size, nil)
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
