package sysinfo

import (
	"runtime"
	"testing"
)

func TestRead(t *testing.T) {
	in := Read(t.TempDir())
	if in.CPUs < 1 || in.GoVersion == "" || in.Goroutines < 1 {
		t.Errorf("process facts missing: %+v", in)
	}
	if runtime.GOOS != "linux" {
		t.Skip("the kernel's figures are read on Linux only")
	}
	if !in.Disk.Known || in.Disk.Total == 0 || in.Disk.Free > in.Disk.Total {
		t.Errorf("disk = %+v, want known with free <= total", in.Disk)
	}
	if f := in.Disk.UsedFraction(); f < 0 || f > 1 {
		t.Errorf("used fraction %v", f)
	}
	if !in.Memory.Known || in.Memory.Available > in.Memory.Total || in.Memory.Process == 0 {
		t.Errorf("memory = %+v, want known, available <= total, a resident process", in.Memory)
	}
	if in.Load1 < 0 || in.HostUptime <= 0 {
		t.Errorf("load %v, host uptime %v: want both read", in.Load1, in.HostUptime)
	}
	if !in.Clock.Known {
		t.Errorf("clock = %+v, want the kernel's answer", in.Clock)
	}
}

func TestDiskUnknown(t *testing.T) {
	d := ReadDisk("/no/such/dir")
	if d.Known || d.UsedFraction() != 0 {
		t.Errorf("disk of a missing dir = %+v, want unknown", d)
	}
}
