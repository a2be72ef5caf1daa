// Package bench compares mmapkit with the other ways Go programs read and
// write files: os.File, golang.org/x/exp/mmap, github.com/edsrzf/mmap-go,
// and bytes.Reader over an in-memory copy as the memory-bandwidth ceiling.
//
// It is a module of its own, so that the peers it measures never become
// dependencies of the toolkit. The benchmarks live in the _test.go files;
// run them with scripts/bench.sh from the repository root, which saves the
// raw output under docs/bench/ and writes docs/BENCHMARKS.md.
//
// Every benchmark is named Workload/key=value/.../impl=contender, so that
// benchstat can put the contenders side by side:
//
//	benchstat -row .name,/size -col /impl docs/bench/raw.txt
//
// The 1 GiB fixtures are made once in MMAPKIT_BENCH_DIR (a temporary
// directory when it is unset) and kept in the page cache in a known state:
//   - readahead.1g reached the cache through readahead (large folios);
//   - written.1g was written in 4 KiB pieces (4 KiB folios);
//   - cold.1g is dropped from the cache (posix_fadvise DONTNEED) before
//     every timed operation that reads it.
//
// Speed is claimed from these benchmarks only, with the baselines measured in
// the same run.
package bench
