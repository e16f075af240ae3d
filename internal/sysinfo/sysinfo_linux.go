package sysinfo

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ReadDisk reads the space of the file system holding path.
func ReadDisk(path string) Disk {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil || st.Blocks == 0 {
		return Disk{}
	}
	bs := uint64(st.Bsize)
	return Disk{Known: true, Total: uint64(st.Blocks) * bs, Free: uint64(st.Bavail) * bs}
}

// ReadClock asks the kernel whether its clock is synchronised.
func ReadClock() Clock {
	var tx unix.Timex // Modes 0: read only
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return Clock{}
	}
	offset := time.Duration(tx.Offset) * time.Microsecond
	if tx.Status&unix.STA_NANO != 0 {
		offset = time.Duration(tx.Offset)
	}
	return Clock{
		Known:     true,
		Synced:    state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0,
		MaxError:  time.Duration(tx.Maxerror) * time.Microsecond,
		Estimated: time.Duration(tx.Esterror) * time.Microsecond,
		Offset:    offset,
	}
}

func readMemory() Memory {
	var m Memory
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			n := kib(v)
			switch k {
			case "MemTotal":
				m.Total, m.Known = n, n > 0
			case "MemAvailable":
				m.Available = n
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				m.Process = kib(v)
			}
		}
	}
	return m
}

// kib reads "  123456 kB" as bytes.
func kib(s string) uint64 {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0
	}
	n, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return 0
	}
	if len(f) > 1 && f[1] == "kB" {
		n *= 1024
	}
	return n
}

func readHost(in *Info) {
	in.HostName, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				in.Load1 = v
			}
		}
	}
	if b, err := os.ReadFile("/proc/uptime"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				in.HostUptime = v
			}
		}
	}
	if b, err := os.ReadFile("/sys/class/thermal/thermal_zone0/temp"); err == nil {
		if v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64); err == nil {
			in.TempC = v / 1000
		}
	}
}
