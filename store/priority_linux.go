package store

import "golang.org/x/sys/unix"

// I/O priority classes and targets of ioprio_set(2).
const (
	ioprioClassIdle  = 3
	ioprioClassShift = 13
	ioprioWhoProcess = 1 // a thread id, here
)

// lowerPriority gives the calling thread the lowest CPU priority (nice 19)
// and the idle I/O class, so that a long check does not slow the writers.
// The caller has locked its goroutine to the thread. Failures are ignored:
// the check still runs, at normal priority.
func lowerPriority() {
	tid := unix.Gettid()
	unix.Setpriority(unix.PRIO_PROCESS, tid, 19)
	unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), ioprioClassIdle<<ioprioClassShift)
}
