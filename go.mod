module github.com/mmapkit/mmapkit

go 1.24.0

require (
	github.com/edsrzf/mmap-go v1.2.0
	github.com/schollz/progressbar/v3 v3.18.0
	github.com/spf13/pflag v1.1.0
	golang.org/x/sys v0.41.0
	golang.org/x/term v0.40.0
)

require (
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
)
