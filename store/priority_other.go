//go:build !linux

package store

// lowerPriority does nothing off Linux.
func lowerPriority() {}
