package hostile

import (
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// Worst is the rotation cmd/zksim -hostile serves: one configuration per
// connection in turn, each of them ending its connection after a while so
// that a client that keeps coming back meets all of them. Together they do
// everything this package can do wrong. now dates the terminal's clock and
// logs.
//
//   - "liar": an 18 KB platform string and a firmware version full of ESC
//     and BEL, a device name with control characters, negative counts and
//     capacities of 2³¹−1, a log and a user table announced at 0xFFFFFFF0
//     bytes, and a flood of malformed, garbage, future and UID live punches
//     and alarms, as fast as the client takes them.
//   - "bad-log": a log of good records mixed with a PIN of control
//     characters, times 0, 0x7FFFFFFF and 0xFFFFFFFF, an erased record and
//     a partial record at the end; users with a control-character PIN; the
//     same flood.
//   - "big-events": eight 1 MiB event frames before the answer to CONNECT.
//   - "many-events": 512 events of 60 KiB before the answer to CONNECT, then
//     a flood of them mixed with malformed punches.
//   - "no-serial": a serial number of control characters only.
func Worst(now time.Time) []Config {
	clock := Wall(now)
	badLog, good, bad := BadLog(2000, now.AddDate(0, -1, 0))
	users := append(User72(1, "1001", "Ada\x1b[31m\x07"), User72(2, "10\x1b\x07", "Eve")...)
	users = append(users, User72(3, "1003", "Grace")...)
	flood := []Event{
		MalformedPunch(), GarbagePunch(), Alarm(zk.AlarmTamper), FuturePunch("1001"),
		Alarm(zk.AlarmDoorClosed), UIDPunch(7, now), Alarm(0x99),
	}
	const session = 20 * time.Second
	return []Config{
		{
			Name: "liar", Platform: Dirty(18 << 10), DeviceName: "gate\x1b[2J\x07\x1b]0;pwned\x07", Firmware: Dirty(4 << 10),
			Sizes: zk.Sizes{Users: -5, Records: -1, Admins: -7, UserCap: 1<<31 - 1, RecordCap: 1<<31 - 1, UserFree: -3, RecordFree: -1},
			Clock: clock, Log: badLog, Users: users, AnnounceLog: 0xFFFFFFF0, AnnounceUsers: 0xFFFFFFF0,
			Flood: flood, FloodCount: -1, SessionFor: session,
		},
		{
			Name: "bad-log", Platform: "ZEM760_TFT", Firmware: "Ver 6.60 Apr 28 2015",
			Sizes: zk.Sizes{Users: 3, Records: good + bad, UserCap: 10000, RecordCap: 100000},
			Clock: clock, Log: badLog, Users: users, Flood: flood, FloodCount: -1, SessionFor: session,
		},
		{Name: "big-events", PreConnect: 8, PreConnectSize: 1 << 20, Clock: clock},
		{
			Name: "many-events", PreConnect: 512, PreConnectSize: 60 << 10, Clock: clock,
			Sizes: zk.Sizes{Records: 100, RecordCap: 100000}, Log: Log40(100, now.AddDate(0, 0, -1)),
			Flood: []Event{BigEvent(60 << 10), MalformedPunch()}, FloodCount: -1, SessionFor: session,
		},
		{Name: "no-serial", Serial: "\x1b\x07\x1b\x07", Clock: clock},
	}
}
