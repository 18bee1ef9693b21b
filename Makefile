# Tessera developer entry points. `make` alone prints this help.
#
#   make build   install what is missing (scripts/bootstrap), configure, build
#   make run     build, then serve the demo on SQLite (./tessera.db)
#   make test    build, then run every test with a throwaway PostgreSQL
#   make bench   build, then run the benchmarks (bench/run.sh)
#   make clean   remove build/

BUILD_DIR  := build
BUILD_TYPE := RelWithDebInfo
JOBS       := 2
STAMP      := $(BUILD_DIR)/.bootstrap-stamp

# Bootstrap again when the package lists change, or when node_modules is gone.
BOOTSTRAP_INPUTS := scripts/bootstrap scripts/debian-packages.txt package-lock.json \
                    $(wildcard web/package-lock.json)
BOOTSTRAP_FORCE  := $(if $(wildcard node_modules/.package-lock.json),,FORCE) \
                    $(if $(wildcard web/package.json),$(if $(wildcard web/node_modules/.package-lock.json),,FORCE))

.DEFAULT_GOAL := help
.PHONY: help configure build run test bench clean bootstrap FORCE

help:
	@echo "Tessera — make targets:"
	@echo "  make build   install missing dependencies (scripts/bootstrap), configure and build; binary: $(BUILD_DIR)/tessera"
	@echo "  make run     build, then: ./$(BUILD_DIR)/tessera serve --db sqlite://./tessera.db --media demo/media --demo"
	@echo "  make test    build, then run all tests (ctest) with a throwaway PostgreSQL (scripts/with-postgres)"
	@echo "  make bench   build, then run the benchmarks (bench/run.sh)"
	@echo "  make clean   remove $(BUILD_DIR)/"
	@echo "  make bootstrap  run scripts/bootstrap now, whatever the stamp says"

$(STAMP): $(BOOTSTRAP_INPUTS) $(BOOTSTRAP_FORCE)
	bash scripts/bootstrap
	@mkdir -p $(BUILD_DIR)
	@touch $@

bootstrap:
	bash scripts/bootstrap
	@mkdir -p $(BUILD_DIR)
	@touch $(STAMP)

configure: $(STAMP)
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then \
	  echo "cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)"; \
	  cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) || exit 1; \
	fi

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

# `run` builds only the server binary, not the tests and benchmarks.
run: configure
	cmake --build $(BUILD_DIR) -j$(JOBS) --target tessera
	./$(BUILD_DIR)/tessera serve --db sqlite://./tessera.db --media demo/media --demo

test: build
	@if [ ! -f scripts/with-postgres ]; then \
	  echo "make: scripts/with-postgres is missing" >&2; exit 1; \
	fi
	bash scripts/with-postgres ctest --test-dir $(BUILD_DIR) --output-on-failure --no-tests=error -j$(JOBS) --timeout 600

bench: build
	@if [ -x bench/run.sh ]; then \
	  bench/run.sh; \
	elif [ -f bench/run.sh ]; then \
	  bash bench/run.sh; \
	else \
	  echo "make: bench/run.sh does not exist yet; nothing to run"; \
	fi

clean:
	rm -rf $(BUILD_DIR)

FORCE:
