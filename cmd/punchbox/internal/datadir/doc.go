// Package datadir owns the box's data directory: it creates it private
// (0700), and holds an exclusive lock on it for as long as the daemon runs,
// so that a second daemon, or a restore, cannot work on it at the same time.
package datadir
