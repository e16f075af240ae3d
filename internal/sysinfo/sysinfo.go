package sysinfo

import (
	"runtime"
	"time"
)

// Disk is the space of the file system holding a path.
type Disk struct {
	Known bool   `json:"known"`
	Total uint64 `json:"total_bytes"`
	Free  uint64 `json:"free_bytes"` // available to the box (not root's reserve)
}

// UsedFraction is the share of the disk in use, 0 to 1.
func (d Disk) UsedFraction() float64 {
	if !d.Known || d.Total == 0 {
		return 0
	}
	return 1 - float64(d.Free)/float64(d.Total)
}

// Memory is the machine's memory and the box process's share of it.
type Memory struct {
	Known     bool   `json:"known"`
	Total     uint64 `json:"total_bytes"`
	Available uint64 `json:"available_bytes"`
	Process   uint64 `json:"process_bytes"` // resident set of this process
	GoHeap    uint64 `json:"go_heap_bytes"`
}

// Clock is the kernel's view of its clock's synchronisation (NTP, chrony or
// systemd-timesyncd all report through it).
type Clock struct {
	Known     bool          `json:"known"` // false off Linux or when adjtimex fails
	Synced    bool          `json:"synced"`
	MaxError  time.Duration `json:"max_error_ns"` // the kernel's bound on the clock's error
	Offset    time.Duration `json:"offset_ns"`    // the last offset the sync daemon applied
	Estimated time.Duration `json:"estimated_error_ns"`
}

// Info is a reading of the machine.
type Info struct {
	Disk       Disk      `json:"disk"`
	Memory     Memory    `json:"memory"`
	Clock      Clock     `json:"clock"`
	Load1      float64   `json:"load1"`         // -1 when unknown
	TempC      float64   `json:"temperature_c"` // the SoC's; -1 when unknown
	HostUptime float64   `json:"host_uptime_s"` // seconds since boot; -1 when unknown
	CPUs       int       `json:"cpus"`
	OS         string    `json:"os"`
	Arch       string    `json:"arch"`
	GoVersion  string    `json:"go_version"`
	HostName   string    `json:"hostname"`
	Goroutines int       `json:"goroutines"`
	ReadAt     time.Time `json:"read_at"`
}

// Read reads the machine; dataDir is where the box keeps its data, whose
// disk is the one that matters.
func Read(dataDir string) Info {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	in := Info{
		Disk: ReadDisk(dataDir), Clock: ReadClock(), Load1: -1, TempC: -1, HostUptime: -1,
		CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version(),
		Goroutines: runtime.NumGoroutine(), ReadAt: time.Now().UTC(),
	}
	in.Memory = readMemory()
	in.Memory.GoHeap = ms.HeapAlloc
	readHost(&in)
	return in
}
