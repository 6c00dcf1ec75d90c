# bulkgen — see README.md. Everything here works offline on a fresh clone with
# only Go installed: the tests and the demo use the built-in simulator.

GO      ?= go
BIN     ?= bin/bulkgen
PKGS    := ./...

.PHONY: all build test vet fmt demo bench clean

all: build

build:
	$(GO) build -o $(BIN) .

# The CI entry point (.ci/run): formatting, vet, then every test, end-to-end
# tests of the built binary against the simulator included.
test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) test -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

# A sample job against the built-in simulator: no key, no network, no cost.
demo: build
	@mkdir -p out
	$(BIN) run -i samples/catalog.xlsx -j samples/translate.yaml -o out/catalog_en.xlsx -c 16 --rpm 6000 --sim
	@echo
	@echo "demo output: out/catalog_en.xlsx (every input column, then the translation and usage columns)"
	@echo "the replies are SIMULATED; with a DASHSCOPE_API_KEY, drop --sim to call qwen-plus for real"

# Writes BENCHMARKS.md. A target missed is a finding, not a failure of the
# command: the table says which, and the bench's own exit code (3) is kept
# for scripts that run `go run ./bench` directly.
bench:
	@mkdir -p bin
	$(GO) build -o bin/bench ./bench
	@bin/bench -gobench -o BENCHMARKS.md; rc=$$?; \
	if [ $$rc -eq 3 ]; then echo "bench: BENCHMARKS.md written; some targets are missed (see its table)"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi

clean:
	rm -rf bin out
