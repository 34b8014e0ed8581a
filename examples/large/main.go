// Command large exists to be compiled: 96 generated packages in 6 layers,
// standard library only, so benchmarks have a program whose build takes seconds, not milliseconds.
// Regenerate with: node scripts/generate-large-example.mjs
package main

import (
	"fmt"
	"runtime"

	"goci.dev/examples/large/internal/p5x00"
	"goci.dev/examples/large/internal/p5x01"
	"goci.dev/examples/large/internal/p5x02"
	"goci.dev/examples/large/internal/p5x03"
	"goci.dev/examples/large/internal/p5x04"
	"goci.dev/examples/large/internal/p5x05"
	"goci.dev/examples/large/internal/p5x06"
	"goci.dev/examples/large/internal/p5x07"
	"goci.dev/examples/large/internal/p5x08"
	"goci.dev/examples/large/internal/p5x09"
	"goci.dev/examples/large/internal/p5x10"
	"goci.dev/examples/large/internal/p5x11"
	"goci.dev/examples/large/internal/p5x12"
	"goci.dev/examples/large/internal/p5x13"
	"goci.dev/examples/large/internal/p5x14"
	"goci.dev/examples/large/internal/p5x15"
)

// Set at link time by goci (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	total := 0
	total += p5x00.F000(1)
	total += p5x01.F000(1)
	total += p5x02.F000(1)
	total += p5x03.F000(1)
	total += p5x04.F000(1)
	total += p5x05.F000(1)
	total += p5x06.F000(1)
	total += p5x07.F000(1)
	total += p5x08.F000(1)
	total += p5x09.F000(1)
	total += p5x10.F000(1)
	total += p5x11.F000(1)
	total += p5x12.F000(1)
	total += p5x13.F000(1)
	total += p5x14.F000(1)
	total += p5x15.F000(1)
	fmt.Printf("%s %s %s %d\n", version, runtime.GOOS, runtime.GOARCH, total)
}
