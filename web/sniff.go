package web

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// splitter serves TLS and plain HTTP on one port. It reads the first byte of
// each connection: a TLS handshake record starts with 0x16, which no HTTP
// request does. TLS connections go to one listener, the rest to another.
type splitter struct {
	ln         net.Listener
	cfg        *tls.Config
	tls, plain *chanListener

	mu      sync.Mutex
	pending map[net.Conn]bool // connections whose first byte is awaited
	closed  bool
	wg      sync.WaitGroup // classify goroutines
}

// errTooManyFiles is an accept error worth waiting out.
var errTooManyFiles = syscall.EMFILE

// sniffTimeout is how long a new connection may stay silent.
const sniffTimeout = 10 * time.Second

func newSplitter(ln net.Listener, cfg *tls.Config) *splitter {
	return &splitter{ln: ln, cfg: cfg, tls: newChanListener(ln.Addr()), plain: newChanListener(ln.Addr()), pending: map[net.Conn]bool{}}
}

// run accepts connections until close; it returns nil then, and the
// accept error if the listener fails.
func (sp *splitter) run() error {
	var delay time.Duration
	for {
		c, err := sp.ln.Accept()
		if err != nil {
			sp.mu.Lock()
			closed := sp.closed
			sp.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		sp.mu.Lock()
		if sp.closed {
			sp.mu.Unlock()
			c.Close()
			return nil
		}
		sp.pending[c] = true
		sp.wg.Add(1)
		sp.mu.Unlock()
		go sp.classify(c)
	}
}

func (sp *splitter) classify(c net.Conn) {
	defer sp.wg.Done()
	var first [1]byte
	c.SetReadDeadline(time.Now().Add(sniffTimeout))
	_, err := io.ReadFull(c, first[:])
	c.SetReadDeadline(time.Time{})
	sp.mu.Lock()
	delete(sp.pending, c)
	sp.mu.Unlock()
	if err != nil {
		c.Close()
		return
	}
	pc := &prefixConn{Conn: c, prefix: first[:]}
	if first[0] == 0x16 {
		sp.tls.deliver(tls.Server(pc, sp.cfg))
	} else {
		sp.plain.deliver(pc)
	}
}

// close stops accepting, drops connections not yet classified, and waits
// for the goroutines classifying them.
func (sp *splitter) close() {
	sp.mu.Lock()
	sp.closed = true
	for c := range sp.pending {
		c.Close()
	}
	sp.mu.Unlock()
	sp.ln.Close()
	sp.tls.Close()
	sp.plain.Close()
	sp.wg.Wait()
}

// prefixConn gives back the bytes read to classify a connection.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// chanListener is a net.Listener fed by the splitter.
type chanListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
