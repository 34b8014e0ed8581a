// Command hello prints what it was built as: the version goci stamped into it, the
// target it was compiled for, and the build settings Go embedded in the binary.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
)

// Set at link time by goci (-ldflags "-X main.version=...").
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	if err := report(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
}

func report(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "%s %s %s\n", version, runtime.GOOS, runtime.GOARCH); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "commit: %s\ndate: %s\ngo: %s\n", commit, date, runtime.Version()); err != nil {
		return err
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		_, err := fmt.Fprintln(w, "build info: unavailable")
		return err
	}
	if _, err := fmt.Fprintf(w, "module: %s %s\n", info.Main.Path, info.Main.Version); err != nil {
		return err
	}
	for _, s := range info.Settings {
		if _, err := fmt.Fprintf(w, "setting: %s=%s\n", s.Key, s.Value); err != nil {
			return err
		}
	}
	return nil
}
