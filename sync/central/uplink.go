package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/sync/errgroup"

	"github.com/punchbox/punchbox/store"
)

// uplink sends the outbox in one session. Two lanes share the session's
// batch sequence: the back-fill sends what waited while the link was down
// (flagged historical, rate-limited if set), the live lane what commits
// from now on. Each lane has its own window slots, so the back-fill can
// never hold a live punch behind it. Before either, the batches a former
// session published and got no acknowledgement for go out again, under
// their numbers, with the same punches: a batch number never stands for
// other punches.
type uplink struct {
	l       *Link
	client  mqtt.Client
	session int64
	epoch   string
	floor   int64 // the newest punch at connect: at or below it, back-fill

	mu    sync.Mutex // orders batch numbers with the publishes that carry them
	batch int64      // the last batch number given out

	again  []store.SentBatch // recorded, unacknowledged: sent again first
	resent []store.Range     // the seqs they carry, which the back-fill skips

	backSlots chan struct{}
	liveSlots chan struct{}
	sent      chan *inflight // in publish order, to the acker
}

// inflight is a batch sent and not yet acknowledged.
type inflight struct {
	batch  int64
	ranges []store.Range // the punches it delivers; nil for a resend
	token  mqtt.Token
	slots  chan struct{}
}

func (l *Link) newUplink(ctx context.Context, client mqtt.Client, sess int64) (*uplink, error) {
	b, err := l.db.Backlog(ctx)
	if err != nil {
		return nil, err
	}
	st, err := l.db.Uplink(ctx)
	if err != nil {
		return nil, err
	}
	again, err := l.db.PendingBatches(ctx)
	if err != nil {
		return nil, err
	}
	w := l.opts.Window
	u := &uplink{
		l: l, client: client, session: sess, epoch: st.Epoch, floor: b.LastSeq, batch: st.LastBatch, again: again,
		backSlots: make(chan struct{}, max(1, w-1)),
		liveSlots: make(chan struct{}, 1),
		sent:      make(chan *inflight, w+2),
	}
	for _, rec := range again {
		if rec.Resend == "" {
			u.resent = append(u.resent, rec.Ranges...)
		}
	}
	if b.Pending > 0 {
		l.log.Info("sending the back-fill", "punches", b.Pending, "waited", b.Age(time.Now()).Round(time.Second), "rate", l.backfillRate(),
			"batches_again", len(again))
	}
	return u, nil
}

// run sends until ctx ends or the session fails.
func (u *uplink) run(ctx context.Context, centralAcks <-chan mqtt.Message) error {
	g, gctx := errgroup.WithContext(ctx)
	acker := &acker{u: u, central: u.l.opts.CentralAck, waiting: map[int64]*inflight{}}
	g.Go(func() error { return acker.run(gctx, centralAcks) })
	g.Go(func() error {
		if err := u.sendAgain(gctx); err != nil {
			return err
		}
		lanes, lctx := errgroup.WithContext(gctx)
		lanes.Go(func() error { return u.backfill(lctx) })
		lanes.Go(func() error { return u.live(lctx) })
		return lanes.Wait()
	})
	return g.Wait()
}

// sendAgain publishes the recorded batches not yet acknowledged, in
// number order, each with the punches it had.
func (u *uplink) sendAgain(ctx context.Context) error {
	for _, rec := range u.again {
		ps, err := u.l.db.PunchesIn(ctx, rec.Ranges)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			// Only a resend of punches pruned since: nothing to send.
			u.l.log.Warn("a batch to send again holds no stored punches; dropping it", "batch", rec.Batch)
			if err := u.l.db.Acknowledge(ctx, nil, rec.Batch); err != nil {
				return err
			}
			continue
		}
		if err := u.publish(ctx, ps, rec, u.backSlots); err != nil {
			return err
		}
	}
	if len(u.again) > 0 {
		u.l.log.Info("sent again the batches left unacknowledged", "batches", len(u.again), "from", u.again[0].Batch)
	}
	u.again = nil
	return nil
}

// backfill sends the undelivered punches at or below the floor, oldest
// first, and ends when there are none left.
func (u *uplink) backfill(ctx context.Context) error {
	if u.floor == 0 {
		return nil // nothing was stored before this session
	}
	var after int64
	bucket := newBucket(u.l.backfillRate)
	began, total := time.Now(), 0
	for {
		ps, err := u.l.db.Undelivered(ctx, after, u.floor, u.l.opts.BatchSize)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			if total > 0 {
				u.l.log.Info("back-fill sent", "punches", total, "took", time.Since(began).Round(time.Millisecond))
			}
			return nil
		}
		after = ps[len(ps)-1].Seq
		if ps = without(ps, u.resent); len(ps) == 0 {
			continue // all of them are in batches sent again
		}
		if err := bucket.wait(ctx, len(ps)); err != nil {
			return nil
		}
		if err := u.publish(ctx, ps, store.SentBatch{Historical: true}, u.backSlots); err != nil {
			return err
		}
		total += len(ps)
	}
}

// without returns ps less the punches with seqs in rs.
func without(ps []store.StoredPunch, rs []store.Range) []store.StoredPunch {
	if len(rs) == 0 {
		return ps
	}
	out := ps[:0]
	for _, p := range ps {
		in := false
		for _, r := range rs {
			if p.Seq >= r.From && p.Seq <= r.To {
				in = true
				break
			}
		}
		if !in {
			out = append(out, p)
		}
	}
	return out
}

// live sends punches as they commit.
func (u *uplink) live(ctx context.Context) error {
	after := u.floor
	for {
		changed := u.l.db.Changed()
		ps, err := u.l.db.Undelivered(ctx, after, 0, u.l.opts.BatchSize)
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			if err := u.publish(ctx, ps, store.SentBatch{}, u.liveSlots); err != nil {
				return err
			}
			after = ps[len(ps)-1].Seq
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// publish sends one batch once a window slot is free. A batch with no
// number (rec.Batch 0) gets the next one, and is recorded before it goes
// out; a recorded one goes out again under its own.
func (u *uplink) publish(ctx context.Context, ps []store.StoredPunch, rec store.SentBatch, slots chan struct{}) error {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	u.mu.Lock()
	if rec.Batch == 0 {
		rec.Batch, rec.Ranges = u.batch+1, rangesOf(ps)
		if err := u.l.db.RecordBatch(ctx, rec); err != nil {
			u.mu.Unlock()
			<-slots
			return fmt.Errorf("record batch %d: %w", rec.Batch, err)
		}
		u.batch = rec.Batch
	}
	f := &inflight{batch: rec.Batch, slots: slots}
	if rec.Resend == "" {
		f.ranges = rec.Ranges
	}
	payload := appendBatch(nil, batchHeader{Site: u.l.opts.Site, Box: u.l.opts.Box, Epoch: u.epoch, Session: u.session, Batch: rec.Batch,
		Historical: rec.Historical, Resend: rec.Resend, Sent: time.Now()}, ps)
	f.token = u.client.Publish(u.l.opts.Topic("punches"), 1, false, payload)
	u.mu.Unlock()
	select {
	case u.sent <- f:
		return nil
	case <-ctx.Done():
		return nil
	}
}

// rangesOf compresses the seqs of punches in outbox order into ranges.
func rangesOf(ps []store.StoredPunch) []store.Range {
	var rs []store.Range
	for _, p := range ps {
		if n := len(rs); n > 0 && rs[n-1].To+1 == p.Seq {
			rs[n-1].To = p.Seq
			continue
		}
		rs = append(rs, store.Range{From: p.Seq, To: p.Seq})
	}
	return rs
}

// acker waits for the broker's acknowledgements in publish order (QoS 1
// acknowledgements come in that order) and records the delivered punches
// and the batches done in the store, a few batches at a time. In
// end-to-end mode a PUBACK only moves a batch to waiting; central's ack
// delivers it.
type acker struct {
	u       *uplink
	central bool
	waiting map[int64]*inflight // end-to-end: acknowledged by the broker, not yet by central

	ranges []store.Range
	done   []int64
	last   time.Time
	// progress is when central last acknowledged something, or when a
	// batch began to wait for it.
	progress time.Time
}

func (a *acker) run(ctx context.Context, centralAcks <-chan mqtt.Message) error {
	// Whatever happens, record what was acknowledged.
	defer a.flush(context.WithoutCancel(ctx))
	tick := time.NewTicker(a.u.l.opts.AckFlush)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := a.flush(ctx); err != nil {
				return err
			}
			if len(a.waiting) > 0 && time.Since(a.progress) > a.u.l.opts.CentralAckWait {
				return fmt.Errorf("central has acknowledged none of %d batches for %s; sending them again", len(a.waiting), a.u.l.opts.CentralAckWait)
			}
		case m := <-centralAcks:
			if err := a.centralAck(m); err != nil {
				a.u.l.rlog.Log(ctx, slog.LevelWarn, "bad-ack", "ignoring an acknowledgement from central", "err", err)
			}
		case f := <-a.u.sent:
			if err := a.await(ctx, f); err != nil {
				return err
			}
		}
	}
}

// await waits for the broker's acknowledgement of one batch.
func (a *acker) await(ctx context.Context, f *inflight) error {
	select {
	case <-f.token.Done():
	case <-ctx.Done():
		return nil
	}
	if err := f.token.Error(); err != nil {
		return fmt.Errorf("batch %d not acknowledged: %w", f.batch, err)
	}
	if a.central && f.ranges != nil {
		if len(a.waiting) == 0 {
			a.progress = time.Now()
		}
		a.waiting[f.batch] = f // its slot stays taken until central acknowledges
		return nil
	}
	a.delivered(f)
	if len(a.u.sent) == 0 || time.Since(a.last) >= a.u.l.opts.AckFlush {
		return a.flush(ctx)
	}
	return nil
}

func (a *acker) delivered(f *inflight) {
	a.ranges = append(a.ranges, f.ranges...)
	a.done = append(a.done, f.batch)
	<-f.slots
}

// centralAck delivers every waiting batch up to the one central names. An
// ack naming another epoch is about an earlier numbering: ignored.
func (a *acker) centralAck(m mqtt.Message) error {
	var ack Ack
	if err := json.Unmarshal(m.Payload(), &ack); err != nil {
		return err
	}
	if ack.Schema != SchemaAck || ack.Batch <= 0 {
		return errors.New("want {\"schema\":\"" + SchemaAck + "\",\"batch\":N}")
	}
	if ack.Epoch != "" && ack.Epoch != a.u.epoch {
		return fmt.Errorf("ack of batch %d in epoch %q; the box numbers in epoch %s", ack.Batch, clampString(ack.Epoch, maxName), a.u.epoch)
	}
	for n, f := range a.waiting {
		if n <= ack.Batch {
			a.delivered(f)
			delete(a.waiting, n)
			a.progress = time.Now()
		}
	}
	return nil
}

// flush records the acknowledged punches and batches.
func (a *acker) flush(ctx context.Context) error {
	a.last = time.Now()
	if len(a.ranges) == 0 && len(a.done) == 0 {
		return nil
	}
	if err := a.u.l.db.Acknowledge(ctx, a.ranges, a.done...); err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	a.u.l.mu.Lock()
	for _, b := range a.done {
		a.u.l.state.Batches = max(a.u.l.state.Batches, b)
	}
	a.u.l.mu.Unlock()
	a.ranges, a.done = a.ranges[:0], a.done[:0]
	return nil
}
