package main

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// readHidden prompts on w and reads a line from the terminal f without
// echoing it.
func readHidden(f *os.File, w io.Writer, prompt string) (string, error) {
	fmt.Fprint(w, prompt)
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	defer func() {
		unix.IoctlSetTermios(fd, unix.TCSETS, old)
		fmt.Fprintln(w)
	}()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// keepOwner protects the service's data directory from a command run as
// root: files SQLite creates beside the database (its WAL and shared
// memory, a restored database) would belong to root, and the service,
// which runs as its own user, could no longer open its store. Call it
// before opening the store and call what it returns after closing it: it
// gives every file in the directory that root created back to the
// directory's owner.
func keepOwner(dataDir string) func() {
	fi, err := os.Stat(dataDir)
	if os.Geteuid() != 0 || err != nil {
		return func() {}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return func() {}
	}
	uid, gid := int(st.Uid), int(st.Gid)
	return func() {
		filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			if s, ok := info.Sys().(*syscall.Stat_t); ok && s.Uid == 0 {
				os.Lchown(path, uid, gid)
			}
			return nil
		})
	}
}
