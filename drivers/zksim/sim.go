package zksim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// Pacing is how fast the simulator answers.
type Pacing int

const (
	// PacingFast answers at once and sends the DATA packets of a range back
	// to back.
	PacingFast Pacing = iota
	// PacingFirmware waits like real terminals: 2-5 ms before each reply and
	// 20 ms after each DATA packet of a range.
	PacingFirmware
)

// Firmware pacing.
const (
	replyDelayMin = 2 * time.Millisecond
	replyDelayMax = 5 * time.Millisecond
	dataPacketGap = 20 * time.Millisecond
)

// Config describes the simulated terminal. Zero fields take the defaults
// named on each; invalid sizes and forms are replaced by the default.
type Config struct {
	Serial     string // "ZKSIM0000001"
	Platform   string // "ZEM760_TFT"
	DeviceName string // "zksim"
	Firmware   string // "Ver 6.60 Apr 28 2015"

	CommKey    uint32 // 0 = none
	RecordSize int    // zk.AttSize40 (default), zk.AttSize16 or zk.AttSize8
	UserSize   int    // zk.UserSize72 (default) or zk.UserSize28
	// EventForm is the payload form of realtime EF_ATTLOG events (a
	// zk.AttLogForm constant); by default 36 for 40-byte records, 12 for
	// 16-byte and 14 for 8-byte ones.
	EventForm int
	Pacing    Pacing

	Location    *time.Location // zone of the device clock (time.UTC)
	ClockOffset time.Duration  // device clock = Now()+offset; SET_TIME changes it

	RecordCap int // attendance capacity reported in free sizes (100000); never enforced
	UserCap   int // user capacity (10000); USER_WRQ refuses new users beyond it
	// InlineMax is the largest dataset a DATA_WRRQ answers inline with
	// CMD_DATA (zk.MaxInlineChunk).
	InlineMax   int
	ResendEvery time.Duration // unacknowledged events are resent this often (2 s)
	SessionIdle time.Duration // an idle UDP session is dropped after this (60 s)

	Now    func() time.Time // time.Now
	Logger *slog.Logger     // discards
}

// Defaults.
const (
	DefaultSerial      = "ZKSIM0000001"
	DefaultPlatform    = "ZEM760_TFT"
	DefaultDeviceName  = "zksim"
	DefaultFirmware    = "Ver 6.60 Apr 28 2015"
	DefaultRecordCap   = 100000
	DefaultUserCap     = 10000
	DefaultResendEvery = 2 * time.Second
	DefaultSessionIdle = 60 * time.Second
)

func (c Config) withDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Serial, DefaultSerial)
	def(&c.Platform, DefaultPlatform)
	def(&c.DeviceName, DefaultDeviceName)
	def(&c.Firmware, DefaultFirmware)
	switch c.RecordSize {
	case zk.AttSize8, zk.AttSize16, zk.AttSize40:
	default:
		c.RecordSize = zk.AttSize40
	}
	if c.UserSize != zk.UserSize28 {
		c.UserSize = zk.UserSize72
	}
	switch c.EventForm {
	case zk.AttLogForm10, zk.AttLogForm12, zk.AttLogForm14, zk.AttLogForm32,
		zk.AttLogForm36, zk.AttLogForm37, zk.AttLogForm52:
	default:
		c.EventForm = map[int]int{zk.AttSize40: zk.AttLogForm36, zk.AttSize16: zk.AttLogForm12, zk.AttSize8: zk.AttLogForm14}[c.RecordSize]
	}
	if c.Pacing != PacingFirmware {
		c.Pacing = PacingFast
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.RecordCap <= 0 {
		c.RecordCap = DefaultRecordCap
	}
	if c.UserCap <= 0 {
		c.UserCap = DefaultUserCap
	}
	if c.InlineMax <= 0 {
		c.InlineMax = zk.MaxInlineChunk
	}
	if c.ResendEvery <= 0 {
		c.ResendEvery = DefaultResendEvery
	}
	if c.SessionIdle <= 0 {
		c.SessionIdle = DefaultSessionIdle
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// Sim is a simulated terminal. Its data methods are safe for concurrent use,
// also while Run serves.
type Sim struct {
	cfg    Config
	log    *slog.Logger
	dev    *device
	faults faultSet
	stats  counters

	mu       sync.Mutex // guards the fields below
	ln       net.Listener
	pc       *net.UDPConn
	addr     string
	running  bool
	stopping bool                  // Run is shutting down: no new sessions
	sessions map[uint16]*session   // open sessions by id
	timers   map[*session]struct{} // sessions whose disable timeout runs, open or not
	conns    map[net.Conn]struct{} // open TCP connections

	wg sync.WaitGroup // every goroutine Run starts
}

// New returns an idle simulator. It does no I/O.
func New(cfg Config) *Sim {
	cfg = cfg.withDefaults()
	s := &Sim{
		cfg:      cfg,
		log:      cfg.Logger,
		sessions: make(map[uint16]*session),
		timers:   make(map[*session]struct{}),
		conns:    make(map[net.Conn]struct{}),
	}
	s.dev = newDevice(cfg)
	s.stats.commands = make(map[zk.Command]int)
	s.stats.changed = make(chan struct{}, 1)
	return s
}

// listenTries bounds the search for a port free for both TCP and UDP.
const listenTries = 20

// Listen binds TCP and UDP on the same port. With port 0 it picks a port
// that is free for both. Run serves and finally closes them.
func (s *Sim) Listen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("zksim: listen %q: %w", addr, err)
	}
	if s.Addr() != "" {
		return errors.New("zksim: already listening")
	}
	var lastErr error
	for range listenTries {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("zksim: listen tcp %s: %w", addr, err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ua, err := net.ResolveUDPAddr("udp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			ln.Close()
			return fmt.Errorf("zksim: listen udp %s: %w", addr, err)
		}
		pc, err := net.ListenUDP("udp", ua)
		if err != nil {
			ln.Close()
			lastErr = err
			if port != "0" && port != "" {
				break // a fixed port: nothing to retry
			}
			continue
		}
		if host == "" || net.ParseIP(host).IsUnspecified() {
			host = "127.0.0.1"
		}
		s.mu.Lock()
		s.ln, s.pc, s.addr = ln, pc, net.JoinHostPort(host, strconv.Itoa(p))
		s.mu.Unlock()
		return nil
	}
	return fmt.Errorf("zksim: listen udp on the tcp port of %s: %w", addr, lastErr)
}

// Addr is the address clients dial, e.g. "127.0.0.1:4370", once Listen
// succeeded.
func (s *Sim) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// ErrNotListening is returned by Run before a successful Listen.
var ErrNotListening = errors.New("zksim: run before listen")

// Run serves TCP and UDP until ctx ends, then closes every session and
// connection and returns nil once all its goroutines have exited. A Sim runs
// once.
func (s *Sim) Run(ctx context.Context) error {
	s.mu.Lock()
	ln, pc := s.ln, s.pc
	if ln == nil || s.running {
		s.mu.Unlock()
		if ln == nil {
			return ErrNotListening
		}
		return errors.New("zksim: already run")
	}
	s.running = true
	s.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.log.Info("zksim serving", "addr", s.Addr(), "serial", s.cfg.Serial)
	errc := make(chan error, 2)
	s.wg.Add(3)
	go func() { defer s.wg.Done(); errc <- s.acceptTCP(ctx, ln) }()
	go func() { defer s.wg.Done(); errc <- s.serveUDP(ctx, pc) }()
	go func() { defer s.wg.Done(); s.housekeep(ctx) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	ln.Close()
	pc.Close()
	s.shutdown()
	s.wg.Wait()
	if err != nil {
		s.log.Error("zksim stopped", "err", err)
	}
	return err
}

// shutdown refuses new sessions and closes the open ones and every TCP
// connection.
func (s *Sim) shutdown() {
	s.mu.Lock()
	s.stopping = true
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.closeAllSessions()
	for _, c := range conns {
		c.Close()
	}
}

// housekeep runs the periodic checks of the firmware's main loop: disable
// time-outs and idle UDP sessions. Event resends run in each session's pump.
func (s *Sim) housekeep(ctx context.Context) {
	t := time.NewTicker(s.tick())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := time.Now()
			s.expireDisables(now)
			s.expireIdle(now)
		}
	}
}

// tick is the housekeeping period: fine enough for second-long time-outs
// and for short idle limits in tests.
func (s *Sim) tick() time.Duration {
	d := min(100*time.Millisecond, s.cfg.SessionIdle/4)
	return max(d, 5*time.Millisecond)
}

// sleep waits d or until ctx ends; it reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
