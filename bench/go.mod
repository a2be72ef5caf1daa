module github.com/mmapkit/mmapkit/bench

go 1.24.0

replace github.com/mmapkit/mmapkit => ../

require (
	github.com/edsrzf/mmap-go v1.2.0
	github.com/mmapkit/mmapkit v0.0.0-00010101000000-000000000000
	golang.org/x/exp v0.0.0-20260209203927-2842357ff358
	golang.org/x/sys v0.41.0
)
