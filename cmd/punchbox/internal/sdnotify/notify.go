package sdnotify

import (
	"fmt"
	"net"
	"strings"
)

// Notifier sends state changes to the service manager.
type Notifier struct {
	socket string // $NOTIFY_SOCKET; "" disables every call
}

// New returns a Notifier for the socket named by NOTIFY_SOCKET in env
// (os.LookupEnv in production). It does no I/O.
func New(env func(string) (string, bool)) *Notifier {
	s, _ := env("NOTIFY_SOCKET")
	return &Notifier{socket: s}
}

// Enabled reports whether a service manager listens.
func (n *Notifier) Enabled() bool { return n != nil && n.socket != "" }

// Notify sends one datagram with the given "KEY=value" assignments, one per
// line. A leading '@' in the socket name selects the abstract namespace.
func (n *Notifier) Notify(assignments ...string) error {
	if !n.Enabled() {
		return nil
	}
	for _, a := range assignments {
		if !strings.Contains(a, "=") || strings.Contains(a, "\n") {
			return fmt.Errorf("sdnotify: malformed assignment %q", a)
		}
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.socket, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sdnotify: dial %s: %w", n.socket, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(assignments, "\n"))); err != nil {
		return fmt.Errorf("sdnotify: write %s: %w", n.socket, err)
	}
	return nil
}

// Ready tells the manager that start-up is complete, with a status line.
func (n *Notifier) Ready(status string) error { return n.Notify("READY=1", "STATUS="+status) }

// Stopping tells the manager that the service is shutting down.
func (n *Notifier) Stopping() error { return n.Notify("STOPPING=1", "STATUS=stopping") }

// Status sets the free-form status line shown by systemctl status.
func (n *Notifier) Status(s string) error { return n.Notify("STATUS=" + s) }
