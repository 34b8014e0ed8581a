module goci.dev/examples/hello

go 1.19
