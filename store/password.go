package store

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Password hashing: argon2id, stored as a PHC string
// "$argon2id$v=19$m=32768,t=2,p=2$<salt>$<key>" (unpadded standard base64).
// CheckPassword reads the parameters from the string, so they may change
// without invalidating stored hashes; Authenticate rehashes a password
// stored with other parameters the next time it is used.

// The parameters for new hashes, sized for a Raspberry Pi 3 (1 GiB, four
// Cortex-A53 cores): 32 MiB and two passes over it on two lanes.
const (
	argonMemory  = 32 << 10 // KiB
	argonTime    = 2
	argonThreads = 2
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on the parameters CheckPassword accepts, so that a damaged hash
// cannot make it allocate gigabytes or run for minutes.
const (
	maxArgonMemory = 256 << 10 // KiB
	maxArgonTime   = 16
	minSaltLen     = 8
	minKeyLen      = 16
	maxKeyLen      = 64
)

// MaxPasswordLen bounds passwords, in bytes.
const MaxPasswordLen = 1024

// hashSlots bounds the hashes computed at once: each holds argonMemory, and
// a burst of logins must not exhaust a Pi's memory.
var hashSlots = make(chan struct{}, 2)

var b64 = base64.RawStdEncoding

// argonParams are the parameters of one PHC string.
type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// HashPassword hashes pw with argon2id and a random salt and returns the
// PHC string. It does not judge the password's strength.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	p := argonParams{memory: argonMemory, time: argonTime, threads: argonThreads, salt: salt}
	p.key = derive(pw, p, argonKeyLen)
	return p.String(), nil
}

// CheckPassword reports whether pw matches the PHC string phc, comparing in
// constant time. A malformed phc is an error.
func CheckPassword(phc, pw string) (bool, error) {
	p, err := parsePHC(phc)
	if err != nil {
		return false, fmt.Errorf("check password: %w", err)
	}
	key := derive(pw, p, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

func derive(pw string, p argonParams, keyLen uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, keyLen)
}

func (p argonParams) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// current reports whether p uses the parameters of new hashes.
func (p argonParams) current() bool {
	return p.memory == argonMemory && p.time == argonTime && p.threads == argonThreads &&
		len(p.salt) == argonSaltLen && len(p.key) == argonKeyLen
}

var errPHC = errors.New("malformed argon2id hash")

// parsePHC parses "$argon2id$v=19$m=M,t=T,p=P$salt$key".
func parsePHC(phc string) (argonParams, error) {
	var p argonParams
	f := strings.Split(phc, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return p, errPHC
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, fmt.Errorf("%w: version %q", errPHC, f[2])
	}
	params := strings.Split(f[3], ",")
	if len(params) != 3 {
		return p, fmt.Errorf("%w: parameters %q", errPHC, f[3])
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		s, ok := strings.CutPrefix(params[i], name)
		n, err := strconv.ParseUint(s, 10, 32)
		if !ok || err != nil {
			return p, fmt.Errorf("%w: parameters %q", errPHC, f[3])
		}
		vals[i] = n
	}
	p.memory, p.time = uint32(vals[0]), uint32(vals[1])
	if vals[2] < 1 || vals[2] > 255 || p.time < 1 || p.time > maxArgonTime ||
		p.memory < 8*uint32(vals[2]) || p.memory > maxArgonMemory {
		return p, fmt.Errorf("%w: parameters %q out of range", errPHC, f[3])
	}
	p.threads = uint8(vals[2])
	var err error
	if p.salt, err = b64.Strict().DecodeString(f[4]); err != nil || len(p.salt) < minSaltLen {
		return p, fmt.Errorf("%w: salt", errPHC)
	}
	if p.key, err = b64.Strict().DecodeString(f[5]); err != nil || len(p.key) < minKeyLen || len(p.key) > maxKeyLen {
		return p, fmt.Errorf("%w: key", errPHC)
	}
	return p, nil
}

// dummyPHC has the parameters of new hashes and a key no password is known
// to produce: Authenticate checks against it when the user is unknown, so
// that an unknown name takes as long as a wrong password.
var dummyPHC = argonParams{
	memory: argonMemory, time: argonTime, threads: argonThreads,
	salt: make([]byte, argonSaltLen), key: make([]byte, argonKeyLen),
}.String()
