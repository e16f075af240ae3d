package zk

import "strconv"

// Command is the first field of every packet: a command from the client, a
// reply code from the terminal, or CmdRegEvent for a realtime event.
type Command uint16

// Commands.
const (
	CmdUserTempRRQ   Command = 9    // read users (old firmware: directly)
	CmdOptionsRRQ    Command = 11   // read an option: "Name\x00"
	CmdOptionsWRQ    Command = 12   // write an option: "Name=Value\x00"
	CmdAttLogRRQ     Command = 13   // read the attendance log (old firmware: directly)
	CmdClearData     Command = 14   // clear data; with no argument it wipes everything
	CmdClearAttLog   Command = 15   // clear the attendance log
	CmdUserWRQ       Command = 8    // write one user
	CmdDeleteUser    Command = 18   // delete one user by uid
	CmdGetFreeSizes  Command = 50   // counts and capacities
	CmdStateRRQ      Command = 64   // machine state, in the reply's session slot
	CmdGetTime       Command = 201  // read the clock
	CmdSetTime       Command = 202  // set the clock
	CmdRegEvent      Command = 500  // subscribe to realtime events; also the command of every event
	CmdConnect       Command = 1000 // open a session
	CmdExit          Command = 1001 // close the session
	CmdEnableDevice  Command = 1002 // let users punch again
	CmdDisableDevice Command = 1003 // lock the keypad; an optional u32 re-enables after that many seconds
	CmdRestart       Command = 1004
	CmdRefreshData   Command = 1013 // reload data after a write
	CmdRefreshOption Command = 1014 // reload options after a write
	CmdGetVersion    Command = 1100 // firmware version string
	CmdAuth          Command = 1102 // answer the comm-key challenge
	CmdPrepareData   Command = 1500 // a bulk transfer follows: u32 size, u32 packet size
	CmdData          Command = 1501 // data
	CmdFreeData      Command = 1502 // release the terminal's transfer buffer
	CmdDataWRRQ      Command = 1503 // prepare a dataset for reading
	CmdDataRDY       Command = 1504 // read a range of the prepared dataset
)

// Reply codes.
const (
	CmdAckOK      Command = 2000
	CmdAckError   Command = 2001
	CmdAckData    Command = 2002
	CmdAckRetry   Command = 2003 // serial FIFO overflow: send the same packet again
	CmdAckRepeat  Command = 2004
	CmdAckUnauth  Command = 2005 // a comm key is required, or the one sent is wrong
	CmdAckUnknown Command = 0xFFFF
)

var commandNames = map[Command]string{
	CmdUserTempRRQ: "USERTEMP_RRQ", CmdOptionsRRQ: "OPTIONS_RRQ", CmdOptionsWRQ: "OPTIONS_WRQ",
	CmdAttLogRRQ: "ATTLOG_RRQ", CmdClearData: "CLEAR_DATA", CmdClearAttLog: "CLEAR_ATTLOG",
	CmdUserWRQ: "USER_WRQ", CmdDeleteUser: "DELETE_USER", CmdGetFreeSizes: "GET_FREE_SIZES",
	CmdStateRRQ: "STATE_RRQ", CmdGetTime: "GET_TIME", CmdSetTime: "SET_TIME", CmdRegEvent: "REG_EVENT",
	CmdConnect: "CONNECT", CmdExit: "EXIT", CmdEnableDevice: "ENABLEDEVICE", CmdDisableDevice: "DISABLEDEVICE",
	CmdRestart: "RESTART", CmdRefreshData: "REFRESHDATA", CmdRefreshOption: "REFRESHOPTION",
	CmdGetVersion: "GET_VERSION", CmdAuth: "AUTH", CmdPrepareData: "PREPARE_DATA", CmdData: "DATA",
	CmdFreeData: "FREE_DATA", CmdDataWRRQ: "DATA_WRRQ", CmdDataRDY: "DATA_RDY",
	CmdAckOK: "ACK_OK", CmdAckError: "ACK_ERROR", CmdAckData: "ACK_DATA", CmdAckRetry: "ACK_RETRY",
	CmdAckRepeat: "ACK_REPEAT", CmdAckUnauth: "ACK_UNAUTH", CmdAckUnknown: "ACK_UNKNOWN",
}

// String returns the protocol's name for c, e.g. "ACK_OK", or its number.
func (c Command) String() string {
	if n, ok := commandNames[c]; ok {
		return n
	}
	return "CMD_" + strconv.Itoa(int(c))
}

// Success reports whether a reply code means the command succeeded: ACK_OK,
// or the start of data (PREPARE_DATA, DATA).
func (c Command) Success() bool {
	return c == CmdAckOK || c == CmdPrepareData || c == CmdData
}

// Realtime event codes, carried in the session slot of a CmdRegEvent packet,
// and the bits of the mask a client subscribes with.
const (
	EventAttLog       uint16 = 1
	EventFinger       uint16 = 2
	EventEnrollUser   uint16 = 4
	EventEnrollFinger uint16 = 8
	EventButton       uint16 = 16
	EventUnlock       uint16 = 32
	EventVerify       uint16 = 128
	EventFPFTR        uint16 = 256
	EventAlarm        uint16 = 512
)

// Dataset tables for CmdDataWRRQ (the "fct" field).
const (
	FctAttLog    = 1
	FctFingerTmp = 2
	FctOpLog     = 4
	FctUser      = 5
)
