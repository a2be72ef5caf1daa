module github.com/mmapkit/mmapkit

go 1.24.0

require (
	github.com/edsrzf/mmap-go v1.2.0
	golang.org/x/sys v0.41.0
	golang.org/x/term v0.40.0
)
