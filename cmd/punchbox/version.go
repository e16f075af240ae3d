package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
)

// buildInfo describes the running binary.
type buildInfo struct {
	Version string `json:"version"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

func currentBuild() buildInfo {
	return buildInfo{Version: version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
}

func (b buildInfo) String() string {
	return fmt.Sprintf("punchbox %s (%s, %s/%s)", b.Version, b.Go, b.OS, b.Arch)
}

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "version")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	b := currentBuild()
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(b)
	}
	_, err := fmt.Fprintln(e.stdout, b)
	return err
}
