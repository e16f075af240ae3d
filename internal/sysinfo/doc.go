// Package sysinfo reads what the box knows of the machine it runs on: disk
// space, memory, load, temperature and whether the kernel's clock is
// synchronised. It reads the kernel's own figures (statfs, /proc, adjtimex)
// and never fails: what cannot be read is reported as unknown.
package sysinfo
