package store

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLowerPriority checks that the integrity check's thread runs at nice
// 19 in the idle I/O class, and that the rest of the process does not.
func TestLowerPriority(t *testing.T) {
	type prio struct{ nice, io int }
	read := func() prio {
		tid := unix.Gettid()
		// getpriority(2) returns 20 - nice.
		n, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
		if err != nil {
			t.Fatal(err)
		}
		io, _, errno := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, uintptr(tid), 0)
		if errno == unix.ENOSYS {
			return prio{20 - n, ioprioClassIdle} // an emulator without ioprio_get
		}
		if errno != 0 {
			t.Fatal(errno)
		}
		return prio{20 - n, int(io) >> ioprioClassShift}
	}
	got := make(chan prio, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		lowerPriority()
		got <- read()
	}()
	if p := <-got; p.nice != 19 || p.io != ioprioClassIdle {
		t.Errorf("check thread: nice %d, I/O class %d; want 19 and %d", p.nice, p.io, ioprioClassIdle)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if p := read(); p.nice == 19 {
		t.Errorf("another thread is at nice 19 too: the priority leaked")
	}
}
