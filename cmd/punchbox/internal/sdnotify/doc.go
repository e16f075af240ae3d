// Package sdnotify speaks systemd's notify protocol without cgo: READY=1,
// STOPPING=1, STATUS= and WATCHDOG=1 datagrams to $NOTIFY_SOCKET. Every call
// is a no-op when the process does not run under a notify-type unit.
package sdnotify
