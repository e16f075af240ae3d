package brokertest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy is a TCP proxy between the box and a broker that a test can cut,
// to break the link at a chosen moment, even in the middle of a publish.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
	// cutAfter, when positive, cuts every connection once that many more
	// bytes went from the box to the broker.
	cutAfter atomic.Int64
	Cuts     atomic.Int32
}

// NewProxy forwards a free loopback port to target until the test ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(func() {
		ln.Close()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// URL is the proxy's address as tcp://host:port.
func (p *Proxy) URL() string { return "tcp://" + p.ln.Addr().String() }

// Cut closes every connection through the proxy now.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.Cuts.Add(1)
}

// CutAfter cuts the connections once n more bytes went from the box to the
// broker: in the middle of whatever the box is sending then.
func (p *Proxy) CutAfter(n int64) { p.cutAfter.Store(n) }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); p.pipe(up, c, true); up.Close(); c.Close() }()
		go func() { defer p.wg.Done(); io.Copy(c, up); c.Close(); up.Close() }()
	}
}

// pipe copies box → broker, counting down to a cut.
func (p *Proxy) pipe(dst, src net.Conn, count bool) {
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if left := p.cutAfter.Load(); count && left > 0 {
				if int64(n) >= left {
					dst.Write(buf[:left])
					p.cutAfter.Store(0)
					p.Cut()
					return
				}
				p.cutAfter.Add(-int64(n))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
