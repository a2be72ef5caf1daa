# mmapkit: make test passes the tests on a fresh machine; make demo shows
# the toolkit at work on testdata/.

GO       ?= go
FUZZTIME ?= 60s
# Short fuzz runs inside make test; make fuzz runs each target for FUZZTIME.
QUICKFUZZ ?= 5s
PKGS      = ./...
BIN       = bin

.PHONY: all test vet race cross fuzz-quick fuzz bench lint demo install test-windows test-faults bench-cli clean

all: test

test: vet race cross fuzz-quick

vet:
	$(GO) vet $(PKGS)

# The libraries under the race detector. mmcat's tests run the command as
# a subprocess, hundreds of times: they run without it, or a race-built
# binary in every subprocess takes minutes.
LIBS = ./ioadapt ./mmfile ./shm ./sysv ./ipc ./internal/...
race:
	$(GO) test -race -count=1 -timeout 300s $(LIBS)
	$(GO) test -count=1 -timeout 300s ./cmd/mmcat

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

# The suite in bench/ against os.File, x/exp/mmap, mmap-go and bytes.Reader;
# regenerates docs/BENCHMARKS.md and docs/bench/ (about five minutes).
bench:
	@./scripts/bench.sh

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

install:
	$(GO) install ./cmd/mmcat

demo:
	@./scripts/demo.sh

# Faults, hostile input, crashes and load, then every fuzz target for
# FUZZTIME (15s by default here): a table of scenarios, runs and failures.
test-faults:
	@FUZZTIME=$${FUZZTIME:-15s} ./scripts/test-faults.sh

# The Windows build's tests, run under Wine (installed when missing).
test-windows:
	@./scripts/windows/test.sh

# mmcat against GNU cat on a page-cached 1 GiB file, with hyperfine.
bench-cli:
	@./scripts/bench-cli.sh

clean:
	rm -rf $(BIN) .cache
