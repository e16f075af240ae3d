package hostile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// Config is what the terminal sends. Zero fields send zero values, except
// Serial and Clock, which have defaults.
type Config struct {
	Name string // names the configuration in logs

	// Identity options (~SerialNumber, ~Platform, ~DeviceName) and the
	// GET_VERSION string, sent as they are, control characters included.
	Serial, Platform, DeviceName, Firmware string

	Sizes zk.Sizes // the GET_FREE_SIZES reply, negative and huge values included
	Clock zk.Time  // the GET_TIME reply (default: the box's UTC wall clock)

	// Log and Users are the raw record bytes of the attendance and user
	// datasets, without the u32 length prefix, which is added; their length
	// need not be a whole number of records.
	Log, Users []byte
	// AnnounceLog and AnnounceUsers, when non-zero, are the sizes the
	// DATA_WRRQ reply announces instead of the true ones. Ranges beyond the
	// true data are refused with ACK_ERROR.
	AnnounceLog, AnnounceUsers uint32

	// PreConnect events of PreConnectSize payload bytes each are sent
	// before the reply to CONNECT.
	PreConnect, PreConnectSize int
	// Flood is sent in turn once the client registers for events:
	// FloodCount events in all (-1: until the session ends), FloodEvery
	// apart (0: back to back).
	Flood      []Event
	FloodCount int
	FloodEvery time.Duration
	// FloodOn is the command whose answer starts the flood, once the
	// client has registered for events: CmdRegEvent by default;
	// CmdEnableDevice, say, waits for the end of its first log read.
	FloodOn zk.Command

	// SessionFor ends a session that long after it began (0: never), so
	// that a rotation moves on: a TCP connection is closed; a UDP peer is
	// answered as a stranger (ACK_UNAUTH) from its next packet on.
	SessionFor time.Duration
}

// Event is a realtime event: its code goes in the session slot.
type Event struct {
	Code uint16
	Data []byte
}

// Stats counts what the terminal saw and did since New.
type Stats struct {
	Connections int                // TCP connections accepted and UDP CONNECTs
	Commands    map[zk.Command]int // packets received, per command
	EventsSent  int                // events sent (pre-connect and flood)
	Acks        int                // ACK_OK packets received: event acknowledgements
	FloodsDone  int                // sessions that sent all their FloodCount events
	Refused     int                // DATA_RDY ranges refused (beyond the true data)
}

// Server is the hostile terminal.
type Server struct {
	cfgs []Config
	log  *slog.Logger

	mu      sync.Mutex
	ln      net.Listener
	pc      *net.UDPConn
	addr    string
	running bool
	conns   int // connections so far, for the rotation
	stats   Stats
	peers   map[string]*session // UDP sessions by peer

	wg sync.WaitGroup
}

// DefaultSerial is the serial number of a Config without one.
const DefaultSerial = "HOSTILE0001"

// New returns an idle terminal serving cfgs in rotation; it does no I/O.
// log may be nil.
func New(log *slog.Logger, cfgs ...Config) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(cfgs) == 0 {
		cfgs = []Config{{}}
	}
	for i := range cfgs {
		if cfgs[i].Serial == "" {
			cfgs[i].Serial = DefaultSerial
		}
	}
	return &Server{cfgs: cfgs, log: log, stats: Stats{Commands: map[zk.Command]int{}}, peers: map[string]*session{}}
}

// Listen binds TCP and UDP on the same port; with port 0 it picks one free
// for both.
func (s *Server) Listen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("hostile: listen %q: %w", addr, err)
	}
	for range 20 {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("hostile: listen tcp %s: %w", addr, err)
		}
		p := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ua, err := net.ResolveUDPAddr("udp", net.JoinHostPort(host, p))
		if err != nil {
			ln.Close()
			return fmt.Errorf("hostile: listen udp %s: %w", addr, err)
		}
		pc, err := net.ListenUDP("udp", ua)
		if err != nil {
			ln.Close()
			if port != "0" {
				return fmt.Errorf("hostile: listen udp %s: %w", addr, err)
			}
			continue
		}
		if host == "" || net.ParseIP(host).IsUnspecified() {
			host = "127.0.0.1"
		}
		s.mu.Lock()
		s.ln, s.pc, s.addr = ln, pc, net.JoinHostPort(host, p)
		s.mu.Unlock()
		return nil
	}
	return fmt.Errorf("hostile: no port free for both tcp and udp on %s", addr)
}

// Addr is the address to dial once Listen succeeded.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Commands = maps.Clone(s.stats.Commands)
	return st
}

func (s *Server) count(f func(st *Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// next returns the configuration of the next connection.
func (s *Server) next() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cfgs[s.conns%len(s.cfgs)]
	s.conns++
	s.stats.Connections++
	return c
}

// Run serves until ctx ends, then closes everything and returns nil once
// every goroutine it started has ended.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	ln, pc := s.ln, s.pc
	if ln == nil || s.running {
		s.mu.Unlock()
		return errors.New("hostile: run before listen, or twice")
	}
	s.running = true
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.acceptTCP(ctx, ln) }()
	go func() { defer s.wg.Done(); s.serveUDP(ctx, pc) }()
	<-ctx.Done()
	ln.Close()
	pc.Close()
	s.wg.Wait()
	return nil
}

func (s *Server) acceptTCP(ctx context.Context, ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			select { // out of descriptors and the like: wait a little
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		cfg := s.next()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, c, cfg)
		}()
	}
}
