# s2c entry points: setup (system and Python dependencies), build, test, demo. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
SWIFT ?= swift
# System packages: libpng (ImageIO), OpenMP (FixedPoint), OpenBLAS (Calibrate), the aarch64
# cross toolchain and qemu (ARM checks), libjpeg-turbo tools (baseline comparisons).
APT_PACKAGES := libpng-dev libomp-dev pkg-config libopenblas-dev gcc-aarch64-linux-gnu \
                libc6-dev-arm64-cross qemu-user libjpeg-turbo-progs
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
REQUIREMENTS := train/requirements.txt
# Touched after a successful pip install; pip runs again only when requirements.txt is newer.
PIP_STAMP := .build/.pip-requirements.stamp

.PHONY: help setup setup-wasm build test demo board fuzz sanitize wasm check-wasm

help:
	@echo "make setup   install missing apt packages and train/requirements.txt (pinned, CPU torch)"
	@echo "make build   swift build -c release"
	@echo "make test    setup, swift build, swift test, pytest train/tests, ARM C kernels, Embedded Swift, board decoder and wasm checks (nano and the shipped hybrid-t)"
	@echo "make demo    setup, release build, scripts/demo.sh"
	@echo "make board   setup, s2c-dec (the decoder for boards) for aarch64 and this machine in out/board/"
	@echo "make fuzz    the committed fuzz inputs, then every fuzz harness for FUZZ_TIME seconds (default 60; FUZZ=harness... picks some)"
	@echo "make sanitize  the Swift test suite and the C checks under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make wasm    s2c-decoder.wasm + s2c-decoder.js in out/wasm/ and the demo page in out/web/ (web/README.md)"
	@echo "make check-wasm  the wasm build: checkasm (SIMD128 vs C) and every conformance stream under node, the page in headless Chromium"

# The wasm decoder (wasm/build.sh, web/): WASI libc, compiler-rt's wasm32 builtins, node, and
# Chromium for the headless page check.
WASM_APT_PACKAGES := wasi-libc libclang-rt-19-dev-wasm32 nodejs chromium
setup-wasm:
	@if ! command -v dpkg-query >/dev/null; then \
	    echo "setup-wasm: no dpkg here; install by hand: $(WASM_APT_PACKAGES)"; \
	else \
	    missing=""; \
	    for p in $(WASM_APT_PACKAGES); do \
	        [ $$p = nodejs ] && command -v node >/dev/null && continue; \
	        dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	    done; \
	    if [ -n "$$missing" ]; then \
	        echo "setup-wasm: installing$$missing"; \
	        $(SUDO) apt-get update -qq; \
	        DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	    fi; \
	fi

setup:
	@if ! command -v dpkg-query >/dev/null; then \
	    echo "setup: no dpkg here; install by hand: $(APT_PACKAGES)"; \
	else \
	    missing=""; \
	    for p in $(APT_PACKAGES); do \
	        dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	    done; \
	    if [ -n "$$missing" ]; then \
	        echo "setup: installing$$missing"; \
	        $(SUDO) apt-get update -qq; \
	        DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	    fi; \
	fi
	@if [ -f $(REQUIREMENTS) ]; then \
	    if [ ! -f $(PIP_STAMP) ] || [ $(REQUIREMENTS) -nt $(PIP_STAMP) ]; then \
	        echo "setup: pip install -r $(REQUIREMENTS)"; \
	        PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install -q -r $(REQUIREMENTS); \
	        mkdir -p $(dir $(PIP_STAMP)) && touch $(PIP_STAMP); \
	    fi; \
	else \
	    echo "setup: no $(REQUIREMENTS) yet; skipping Python packages"; \
	fi

build:
	$(SWIFT) build -c release

test: setup setup-wasm
	$(SWIFT) build
	$(SWIFT) test
	@if [ -d train/tests ]; then \
	    echo "$(PYTHON) -m pytest -q train/tests"; \
	    rc=0; $(PYTHON) -m pytest -q train/tests || rc=$$?; \
	    if [ $$rc -eq 5 ]; then echo "pytest: no tests collected in train/tests yet"; \
	    elif [ $$rc -ne 0 ]; then exit $$rc; fi; \
	else \
	    echo "test: no train/tests folder; skipping Python tests"; \
	fi
	@if [ -f scripts/check-aarch64.sh ]; then \
	    echo "bash scripts/check-aarch64.sh"; bash scripts/check-aarch64.sh; \
	else \
	    echo "test: no scripts/check-aarch64.sh yet; skipping the ARM check"; \
	fi
	bash scripts/check-embedded.sh
	for w in Weights/*.s2cq; do n=$$(basename $$w .s2cq); bash scripts/check-embedded.sh $$w Tests/Conformance/$$n/*.s2c; done
	bash scripts/check-board.sh
	bash scripts/check-wasm.sh
	bash scripts/check-encoder.sh
	bash scripts/check-memory.sh
	bash fuzz/run.sh --regress
	bash fuzz/run.sh --time 30
	bash fuzz/sanitize.sh

# Fuzzing and sanitizers (docs/robustness.md). CI runs the committed inputs, 30 s of each harness
# and the sanitizer build as part of `make test`.
FUZZ_TIME ?= 60
FUZZ ?=
fuzz: setup
	bash fuzz/run.sh --regress $(FUZZ)
	bash fuzz/run.sh --time $(FUZZ_TIME) $(FUZZ)

sanitize: setup
	bash fuzz/sanitize.sh

# The browser decoder (web/README.md): out/wasm/ (s2c-decoder.wasm, s2c-decoder-scalar.wasm,
# s2c-decoder.js) and the demo page with the shipped models in out/web/.
wasm: setup-wasm
	bash wasm/build.sh out/wasm
	bash web/build.sh out/wasm out/web

# checkasm for SIMD128 under node, every conformance stream under node (three kernel paths, the
# refusals), the page in headless Chromium (conformance streams + a Kodak-size one, screenshot in
# out/web-check/). Part of `make test`.
check-wasm: setup-wasm
	bash scripts/check-wasm.sh

# Static binaries of the board decoder (board/README.md).
board: setup
	bash board/build.sh aarch64 out/board/s2c-dec-aarch64
	bash board/build.sh host out/board/s2c-dec-host

# The demo runs whatever end-to-end job exists today; see scripts/demo.sh.
demo: setup build
	bash scripts/demo.sh
