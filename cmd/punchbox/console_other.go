//go:build !linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// readHidden prompts on w and reads a line from f. Only Linux hides it;
// the box runs Linux.
func readHidden(f *os.File, w io.Writer, prompt string) (string, error) {
	fmt.Fprint(w, prompt)
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// keepOwner does nothing off Linux.
func keepOwner(string) func() { return func() {} }
