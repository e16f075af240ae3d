# punchbox build, test and release targets. Run "make help" for a list.

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
PKG      := ./cmd/punchbox
DIST     := dist
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# nomsgpack leaves gin's MessagePack codec out of the binary (6 MB that the
# panel never uses); builds and tests use the same tags.
export GOFLAGS := -tags=nomsgpack

# Pi models: armv6 (Zero, 1), armv7 (2, 3 and 4 on 32-bit OS), arm64 (3, 4, 5
# on 64-bit OS); amd64 for labs and servers.
CROSS := linux/arm/6/armv6 linux/arm/7/armv7 linux/arm64//arm64 linux/amd64//amd64

.PHONY: all build test vet staticcheck fmt-check cross test-arm bench demo clean help vendor-ui

all: build

help:
	@echo "make build      build bin/punchbox for this machine"
	@echo "make test       gofmt check, go vet, staticcheck, go test -race ./..."
	@echo "make cross      static stripped binaries for every Pi into $(DIST)/"
	@echo "make test-arm   the unit tests under qemu-user for linux/arm (GOARM=6) and arm64"
	@echo "make bench      the benchmarks and the figures the issues name"
	@echo "make demo       run the appliance on this machine"
	@echo "make vendor-ui  re-fetch the panel's pinned htmx and uPlot and check their sums"

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/punchbox $(PKG)

test: fmt-check vet staticcheck
	$(GO) test -race ./...

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "not gofmt-ed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

cross:
	@mkdir -p $(DIST)
	@set -e; for t in $(CROSS); do \
		os=$$(echo $$t | cut -d/ -f1); arch=$$(echo $$t | cut -d/ -f2); \
		arm=$$(echo $$t | cut -d/ -f3); name=$$(echo $$t | cut -d/ -f4); \
		echo "build $(DIST)/punchbox-$$os-$$name"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOARM=$$arm \
			$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DIST)/punchbox-$$os-$$name $(PKG); \
	done
	@ls -l $(DIST)

# The unit tests, cross-compiled and run under user-mode emulation. Tests that
# start punchbox as a child process run it under the same emulator.
test-arm:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 PUNCHBOX_TEST_EMULATOR=qemu-arm-static \
		$(GO) test -exec qemu-arm-static ./...
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 PUNCHBOX_TEST_EMULATOR=qemu-aarch64-static \
		$(GO) test -exec qemu-aarch64-static ./...

# The MQTT benchmarks use a real mosquitto when there is one.
bench:
	PUNCHBOX_TEST_BROKER=$$(PATH=$$PATH:/usr/sbin command -v mosquitto || true) \
		$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

# The panel's browser libraries: fetched with npm pack, checked against
# web/ui/vendor/VERSIONS and committed; nothing is fetched at run time.
vendor-ui:
	web/ui/vendor/fetch.sh

demo: build
	./bin/punchbox demo

clean:
	rm -rf bin $(DIST) .demo
