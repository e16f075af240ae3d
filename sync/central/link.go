package central

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/sync/errgroup"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/internal/ratelog"
	"github.com/punchbox/punchbox/store"
)

// Store is what the link needs of the store.
type Store interface {
	Undelivered(ctx context.Context, after, upTo int64, limit int) ([]store.StoredPunch, error)
	Outbox(ctx context.Context, after int64, limit int) ([]store.StoredPunch, error)
	Acknowledge(ctx context.Context, ranges []store.Range, done ...int64) error
	RecordBatch(ctx context.Context, b store.SentBatch) error
	PendingBatches(ctx context.Context) ([]store.SentBatch, error)
	PunchesIn(ctx context.Context, ranges []store.Range) ([]store.StoredPunch, error)
	Backlog(ctx context.Context) (store.Backlog, error)
	Changed() <-chan struct{}
	Uplink(ctx context.Context) (store.UplinkState, error)
	NextSession(ctx context.Context) (int64, error)
	Search(ctx context.Context, f store.Filter) ([]store.StoredPunch, error)
	PutEmployees(ctx context.Context, es []punchbox.Employee, replace bool) (store.RosterResult, error)
	Employees(ctx context.Context, f store.EmployeeFilter) ([]punchbox.Employee, int, error)
	Setting(ctx context.Context, key string, into any) (bool, error)
	SetSetting(ctx context.Context, key string, v any) error
	Audit(ctx context.Context, e store.AuditEntry) error
	LastWrite() store.WriteStatus
}

// Terminals is what the link needs of the terminal supervisor.
type Terminals interface {
	Healths() []drivers.Health
	Watch() (<-chan struct{}, func())
	Terminal(id string) (drivers.Terminal, bool)
}

// Link is the connection to the central broker. New does no I/O; Run
// connects, and reconnects with jittered exponential backoff, until its
// context ends.
type Link struct {
	opts   Options
	db     Store
	terms  Terminals
	log    *slog.Logger
	events *eventQueue

	rlog   *ratelog.Limiter
	cmds   chan mqtt.Message // commands waiting to run, across sessions
	unsent []CmdResult       // results a lost session could not publish; the command runner's

	mu    sync.Mutex
	state LinkState
	rate  float64 // back-fill rate, punches/s; 0 = unlimited
}

// LinkState is the link's state, for the panel and the demo.
type LinkState struct {
	Connected bool      `json:"connected"`
	Since     time.Time `json:"since"`
	Session   int64     `json:"session"`
	LastError string    `json:"last_error,omitempty"`
	Broker    string    `json:"broker"`
	Batches   int64     `json:"batches"` // batches acknowledged this session
}

// New returns an idle Link.
func New(opts Options, db Store, terms Terminals, log *slog.Logger) (*Link, error) {
	opts.defaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Link{opts: opts, db: db, terms: terms, log: log, events: newEventQueue(256), rate: opts.BackfillRate,
		rlog: ratelog.New(log, 0, nil), cmds: make(chan mqtt.Message, maxQueued)}
	l.state.Broker = opts.URL
	return l, nil
}

// State returns the link's current state.
func (l *Link) State() LinkState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Events returns the queue the event watcher adds to; the link sends what
// it holds whenever connected.
func (l *Link) Events() *eventQueue { return l.events }

// backfillRate returns the current back-fill rate (the settings command
// changes it).
func (l *Link) backfillRate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate
}

// SetBackfillRate changes the back-fill rate, in punches per second (0:
// unlimited), from the next batch on. A rate outside the setting's bounds
// is refused (ErrInvalid) and the current one kept.
func (l *Link) SetBackfillRate(rate float64) error {
	v, err := store.SettingDefs.Validate(backfillKey, rate)
	if err != nil {
		return fmt.Errorf("back-fill rate %g: %w", rate, err)
	}
	l.mu.Lock()
	l.rate = v.(float64)
	l.mu.Unlock()
	return nil
}

// Run connects and keeps the link up until ctx ends; it returns nil then.
// A session that fails is logged (once while it keeps failing the same
// way) and retried with jittered exponential backoff.
func (l *Link) Run(ctx context.Context) error {
	backoff := l.opts.MinBackoff
	lastErr := ""
	for {
		began := time.Now()
		err := l.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("session ended")
		}
		if time.Since(began) > time.Minute {
			backoff = l.opts.MinBackoff // it was up a while: start over
		}
		l.mu.Lock()
		wasUp := l.state.Connected
		l.state.Connected, l.state.Since, l.state.LastError = false, time.Now(), err.Error()
		l.mu.Unlock()
		wait := backoff/2 + rand.N(backoff/2+1)
		switch {
		case wasUp:
			l.log.Warn("link to central lost; reconnecting", "err", err, "retry_in", wait.Round(time.Millisecond))
		case err.Error() != lastErr:
			l.log.Warn("cannot connect to central; retrying", "broker", l.opts.URL, "err", err, "retry_in", wait.Round(time.Millisecond))
		default:
			l.log.Debug("still cannot connect to central", "err", err, "retry_in", wait.Round(time.Millisecond))
		}
		lastErr = err.Error()
		backoff = min(backoff*2, l.opts.MaxBackoff)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// session is one connection, from connect to its loss or ctx's end.
func (l *Link) session(ctx context.Context) error {
	sess, err := l.db.NextSession(ctx)
	if err != nil {
		return err
	}
	client, lost, err := l.connect(ctx, sess)
	if err != nil {
		return err
	}
	defer func() {
		// A stop (ctx ended) is clean at any point of the session, also
		// while it is still starting up.
		if ctx.Err() != nil {
			// A clean stop: say so, since the broker sends the will only
			// when the connection is lost.
			t := client.Publish(l.opts.Topic("status"), 1, true, mustJSON(l.status(context.WithoutCancel(ctx), "offline", "stopped", sess)))
			t.WaitTimeout(time.Second)
			client.Disconnect(250)
			return
		}
		client.Disconnect(0)
	}()
	if err := l.publishWait(ctx, client, "status", true, mustJSON(l.status(ctx, "online", "", sess))); err != nil {
		return fmt.Errorf("publish birth: %w", err)
	}
	up, err := l.newUplink(ctx, client, sess)
	if err != nil {
		return err
	}
	acks := make(chan mqtt.Message, 64)
	if err := l.subscribe(client, acks); err != nil {
		return err
	}
	// Connected once commands are taken too.
	l.mu.Lock()
	l.state = LinkState{Connected: true, Since: time.Now(), Session: sess, Broker: l.opts.URL}
	l.mu.Unlock()
	l.log.Info("connected to central", "broker", l.opts.URL, "session", sess)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		select {
		case err := <-lost:
			return fmt.Errorf("connection lost: %w", err)
		case <-gctx.Done():
			return nil
		}
	})
	g.Go(func() error { return up.run(gctx, acks) })
	g.Go(func() error { return l.publishTerminals(gctx, client) })
	g.Go(func() error { return l.publishEvents(gctx, client) })
	g.Go(func() error { return l.refreshStatus(gctx, client, sess) })
	g.Go(func() error { return l.runCommands(gctx, client, up) })
	err = g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// connect dials the broker with the will set for this session.
func (l *Link) connect(ctx context.Context, sess int64) (mqtt.Client, <-chan error, error) {
	broker, _ := l.opts.brokerURL()
	tlsCfg, err := l.opts.tlsConfig()
	if err != nil {
		return nil, nil, err
	}
	lost := make(chan error, 1)
	o := mqtt.NewClientOptions().
		AddBroker(broker).
		SetClientID(l.opts.ClientID).
		SetUsername(l.opts.Username).
		SetPassword(l.opts.Password).
		SetKeepAlive(l.opts.KeepAlive).
		SetPingTimeout(10*time.Second).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(false).
		SetConnectTimeout(l.opts.ConnectTimeout).
		SetWriteTimeout(30*time.Second).
		SetBinaryWill(l.opts.Topic("status"), mustJSON(l.status(ctx, "offline", "lost", sess)), 1, true).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			select {
			case lost <- err:
			default:
			}
		})
	// Every read from the broker goes through a limitConn: a command
	// over maxCommand is refused before it is buffered whole.
	o.SetCustomOpenConnectionFn(l.opts.dialer(tlsCfg, maxCommand))
	client := mqtt.NewClient(o)
	tok := client.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		client.Disconnect(0)
		return nil, nil, ctx.Err()
	case <-time.After(l.opts.ConnectTimeout + time.Second):
		client.Disconnect(0)
		return nil, nil, fmt.Errorf("connect %s: no answer in %s", l.opts.URL, l.opts.ConnectTimeout)
	}
	if err := tok.Error(); err != nil {
		return nil, nil, fmt.Errorf("connect %s: %w", l.opts.URL, err)
	}
	return client, lost, nil
}

// subscribe takes commands, and central's acknowledgements in end-to-end
// mode. Handlers only hand messages on: paho calls them on its own
// goroutines.
func (l *Link) subscribe(client mqtt.Client, acks chan<- mqtt.Message) error {
	filters := map[string]byte{l.opts.Topic("cmd/+"): 1}
	if l.opts.CentralAck {
		filters[l.opts.Topic("ack")] = 1
	}
	tok := client.SubscribeMultiple(filters, func(c mqtt.Client, m mqtt.Message) {
		if m.Topic() != l.opts.Topic("ack") {
			l.takeCommand(c, m)
			return
		}
		select {
		case acks <- m:
		default:
			// Acknowledgements are cumulative: a later one covers this.
			l.rlog.Log(context.Background(), slog.LevelDebug, "ack-dropped", "dropping an acknowledgement from central: too many waiting")
		}
	})
	if !tok.WaitTimeout(l.opts.ConnectTimeout) {
		return errors.New("subscribe: no answer")
	}
	return tok.Error()
}

// publishWait publishes and waits for the broker's acknowledgement.
func (l *Link) publishWait(ctx context.Context, client mqtt.Client, sub string, retained bool, payload []byte) error {
	tok := client.Publish(l.opts.Topic(sub), 1, retained, payload)
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Second):
		return fmt.Errorf("publish %s: no acknowledgement in 30s", sub)
	}
}
