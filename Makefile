# mmapkit: make test passes the tests on a fresh machine; make demo shows
# the toolkit at work on testdata/.

GO       ?= go
FUZZTIME ?= 60s
# Short fuzz runs inside make test; make fuzz runs each target for FUZZTIME.
QUICKFUZZ ?= 5s
PKGS      = ./...
BIN       = bin

.PHONY: all test deps vet race cross test-32bit fuzz-quick fuzz bench lint demo install test-windows test-faults bench-cli bench-ipc clean

all: test

test: deps vet race cross fuzz-quick

# The tools the tests use as oracles (getfattr, setfacl, setcap), installed
# when missing.
deps:
	@./scripts/deps.sh

vet:
	$(GO) vet $(PKGS)

# The libraries under the race detector. mmcat's tests run the command as
# a subprocess, hundreds of times: they run without it, or a race-built
# binary in every subprocess takes minutes.
LIBS = ./ioadapt ./mmfile ./shm ./sysv ./ipc ./internal/...
# The allocation tests skip under the race detector, whose instrumentation
# allocates: they run again without it.
race:
	$(GO) test -race -count=1 -timeout 300s $(LIBS)
	$(GO) test -count=1 -timeout 300s -run 'AllocatesNothing$$|AllocateNothing$$|^TestAllocs$$' ./mmfile ./ipc
	$(GO) test -count=1 -timeout 300s ./cmd/mmcat

# The tests again as a 32-bit program (linux/386), where int has 32 bits,
# x/sys's types differ and addresses are few: an amd64 kernel runs it
# beside the 64-bit one, when built with IA32 emulation.
test-32bit:
	@set -e; \
	if [ "$$($(GO) env GOHOSTOS)/$$($(GO) env GOHOSTARCH)" != linux/amd64 ]; then \
		echo "test-32bit: needs a linux/amd64 host to run linux/386 programs"; exit 0; \
	fi; \
	probe=$$(mktemp -d); trap 'rm -rf "$$probe"' EXIT; \
	GOARCH=386 $(GO) test -c -o "$$probe/errs.test" ./internal/errs; \
	if ! out=$$("$$probe/errs.test" -test.run '^$$' 2>&1); then \
		case "$$out" in \
		*[Ee]"xec format error"*) echo "test-32bit: this kernel does not run 32-bit programs (no IA32 emulation)"; exit 0;; \
		esac; \
		echo "$$out"; exit 1; \
	fi; \
	echo "GOARCH=386 $(GO) test -count=1 -timeout 600s $(LIBS) ./cmd/mmcat"; \
	GOARCH=386 $(GO) test -count=1 -timeout 600s $(LIBS) ./cmd/mmcat

# The exported API builds everywhere; the OS seams must compile on each.
cross:
	@for os in darwin freebsd windows; do \
		echo "GOOS=$$os go build and vet"; \
		GOOS=$$os $(GO) build $(PKGS) && GOOS=$$os $(GO) vet $(PKGS) || exit 1; \
	done

# Every Fuzz target of every package, briefly, against its oracle.
fuzz-quick:
	@FUZZTIME=$(QUICKFUZZ) ./scripts/fuzz.sh

fuzz:
	@FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# The suite in bench/ against os.File, x/exp/mmap, mmap-go and bytes.Reader,
# and the ipc pipe against os.Pipe and a socketpair; regenerates
# docs/BENCHMARKS.md and docs/bench/ (about five minutes, and a few more for
# the ipc phase).
bench:
	@./scripts/bench.sh

# The ipc phase alone (a few minutes on a quiet machine, 15 at a load of
# 30 on 2 CPUs): docs/bench/ipc-raw.txt, and
# the report again from it and the file phases' docs/bench/raw.txt.
bench-ipc:
	@BENCH_PHASES=ipc ./scripts/bench.sh

# staticcheck is a development tool, not a dependency of the module: a
# pinned version is built into .cache (for this machine's system) and run
# with GOOS set for each system the seams build on. On Linux it checks the
# tests too, those of make test-faults included; elsewhere the library and
# commands only, since most test helpers serve tests that run on Linux.
STATICCHECK_VERSION = v0.8.2
STATICCHECK = .cache/staticcheck@$(STATICCHECK_VERSION)/staticcheck

$(STATICCHECK):
	GOBIN=$(CURDIR)/$(dir $(STATICCHECK)) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: vet $(STATICCHECK)
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@echo "staticcheck linux"; GOOS=linux $(STATICCHECK) -tags faults $(PKGS)
	@for os in darwin freebsd windows; do \
		echo "staticcheck $$os"; \
		GOOS=$$os $(STATICCHECK) -tests=false $(PKGS) || exit 1; \
	done
	@# 32-bit Linux, where int is 32 bits and x/sys's types differ: the
	@# library and commands must build.
	@for arch in 386 arm mips; do \
		echo "build linux/$$arch"; \
		GOOS=linux GOARCH=$$arch $(GO) build $(PKGS) || exit 1; \
	done

install:
	$(GO) install ./cmd/mmcat

demo:
	@./scripts/demo.sh

# Faults, hostile input, crashes and load, then every fuzz target for
# FUZZTIME (15s by default here): a table of scenarios, runs and failures.
test-faults: deps
	@FUZZTIME=$${FUZZTIME:-15s} ./scripts/test-faults.sh

# The Windows build's tests, run under Wine (installed when missing).
test-windows:
	@./scripts/windows/test.sh

# mmcat against GNU cat on page-cached 1 GiB files, with hyperfine; the
# report goes to docs/bench/cli.txt. BASE_REV=main times main's mmcat too.
bench-cli:
	@./scripts/deps.sh bench
	@CLI_REPORT=docs/bench/cli.txt ./scripts/bench-cli.sh

# bin/, what go build ./cmd/mmcat and ./internal/demo leave at the root,
# and .cache/: the Wine prefix, MinGW build and test logs of make
# test-windows.
clean:
	rm -rf $(BIN) mmcat demo .cache
