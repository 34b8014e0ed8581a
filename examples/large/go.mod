module goci.dev/examples/large

go 1.19
