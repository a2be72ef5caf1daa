//go:build !linux

package sys

// KernelFS returns "": the kernel file systems it names are Linux's.
func KernelFS(int) string { return "" }
