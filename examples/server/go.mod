module goci.dev/examples/server

go 1.19
