package zksim

import (
	"fmt"
	"hash/fnv"
	"net"
)

// option returns the value of the option name as OPTIONS_RRQ reports it:
// what OPTIONS_WRQ wrote, else the built-in value.
func (s *Sim) option(ss *session, name string) (string, bool) {
	if v, ok := s.dev.option(name); ok {
		return v, true
	}
	switch name {
	case "~SerialNumber":
		return s.cfg.Serial, true
	case "~Platform":
		return s.cfg.Platform, true
	case "~DeviceName":
		return s.cfg.DeviceName, true
	case "~OEMVendor":
		return "ZKTeco Inc.", true
	case "~ZKFPVersion":
		return "10", true
	case "ZKFaceVersion", "FaceFunOn", "WorkCode", "CompatOldFirmware":
		return "0", true
	case "~ExtendFmt":
		return boolOption(s.cfg.RecordSize == 40), true
	case "~UserExtFmt":
		return boolOption(s.cfg.UserSize == 72), true
	case "~PIN2Width":
		if s.dev.maxPINLen() > 9 {
			return "24", true
		}
		return "9", true
	case "MAC":
		return s.mac(), true
	case "IPAddress":
		return s.ipAddress(ss), true
	case "NetMask":
		return "255.255.255.0", true
	case "GATEIPAddress":
		return "0.0.0.0", true
	case "~ProductTime":
		return "2015-04-28 10:00:00", true
	}
	return "", false
}

func boolOption(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// mac is a stable MAC address in ZKTeco's OUI, derived from the serial.
func (s *Sim) mac() string {
	h := fnv.New32a()
	h.Write([]byte(s.cfg.Serial))
	v := h.Sum32()
	return fmt.Sprintf("00:17:61:%02x:%02x:%02x", byte(v>>16), byte(v>>8), byte(v))
}

// ipAddress is the address the session reached the simulator on.
func (s *Sim) ipAddress(ss *session) string {
	if ss != nil && ss.w.conn != nil {
		if a, ok := ss.w.conn.LocalAddr().(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
			return a.IP.String()
		}
	}
	if host, _, err := net.SplitHostPort(s.Addr()); err == nil && host != "" {
		return host
	}
	return "127.0.0.1"
}
