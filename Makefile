# Hostline: two commands on a fresh Debian 12 machine.
#   make run    install what is missing, build, start `hostline dev`
#   make test   install what is missing, build with ASan+UBSan, run every test
# Also:
#   make build    optimised with debug info, binaries in build/bin/
#   make bench    the benchmarks (docs/performance.md)
#   make fuzz     each libFuzzer target for FUZZ_SECONDS (docs/fuzzing.md)
#   make faults   the fault-injection suite with heavier settings than make test runs
#                 (FAULT_RUNS, FAULT_KILLS; FAULT_SEED=N replays a schedule)
#   make package       the Debian packages hostline-controller, hostline-agent and hostline
#                      (build-package/*.deb; docs/operations.md)
#   make package-test  those packages installed into a fresh Debian 12 root (debootstrap):
#                      controller, agent, enrollment and a job end to end, then lintian

JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
export CCACHE_DIR ?= $(HOME)/.cache/ccache
# Paths relative to the checkout, so a fresh clone elsewhere (CI) reuses the cache.
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= true
# Seconds per fuzz target: `make fuzz` is a real search, `make test` a short pass of each.
FUZZ_SECONDS ?= 120
FUZZ_SMOKE_SECONDS ?= 15

FAULT_RUNS ?= 500
FAULT_KILLS ?= 20
FAULT_SEED ?=

.PHONY: run test faults build bench deps clean format fuzz fuzz-smoke fuzz-build package package-test

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOSTLINE_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build build -j $(JOBS) --target hostline hostline-controller hostline-agent

run: build
	build/bin/hostline dev $(ARGS)

# -DHOSTLINE_BENCH=ON: the benchmark's short pass (hostline-bench --smoke) is one of the tests.
test: deps
	cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHOSTLINE_SANITIZE=ON -DHOSTLINE_BENCH=ON $(CMAKE_FLAGS)
	cmake --build build-test -j $(JOBS)
	cd build-test && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 300
	$(MAKE) --no-print-directory fuzz-smoke

# The same build as make test; the figures end in FAULTS-REPORT lines, repeated at the end.
faults: SHELL := /bin/bash
faults: .SHELLFLAGS := -o pipefail -c
faults: deps
	cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHOSTLINE_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build build-test -j $(JOBS) --target fault_tests
	cd build-test && HOSTLINE_BIN_DIR=$(CURDIR)/build-test/bin \
	  HOSTLINE_FAULT_RUNS=$(FAULT_RUNS) HOSTLINE_FAULT_KILLS=$(FAULT_KILLS) HOSTLINE_FAULT_SEED=$(FAULT_SEED) \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  bin/fault_tests 2>&1 | tee fault_tests.log; status=$$?; \
	  echo; grep '^FAULTS-REPORT' fault_tests.log; exit $$status

# --bench: also the peers the fan-out scenario compares with (ansible-core, pdsh).
bench:
	@scripts/install-deps.sh --bench
	cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DHOSTLINE_TESTS=OFF -DHOSTLINE_BENCH=ON $(CMAKE_FLAGS)
	cmake --build build-bench -j $(JOBS)
	build-bench/bin/hostline-bench

# The packages are built with Debian's hardening flags (dpkg-buildflags, hardening=+all), as
# a Debian build of the same source would be; cpack strips the binaries and runs dpkg-shlibdeps.
package: deps
	DEB_BUILD_MAINT_OPTIONS=hardening=+all; export DEB_BUILD_MAINT_OPTIONS; \
	cmake -S . -B build-package -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOSTLINE_TESTS=OFF \
	  "-DCMAKE_CXX_FLAGS=$$(dpkg-buildflags --get CPPFLAGS) $$(dpkg-buildflags --get CXXFLAGS)" \
	  "-DCMAKE_EXE_LINKER_FLAGS=$$(dpkg-buildflags --get LDFLAGS)" $(CMAKE_FLAGS)
	cmake --build build-package -j $(JOBS) --target hostline hostline-controller hostline-agent hostline_deb_files
	rm -f build-package/*.deb
	cd build-package && cpack -G DEB
	@echo "packages:"; ls -1 $(CURDIR)/build-package/*.deb

# Needs root (debootstrap, chroot, namespaces); the Debian 12 root is cached under
# ~/.cache/hostline/, a fresh copy of it is unpacked for every run.
package-test: package
	scripts/package-test.sh build-package

# libFuzzer needs clang; its own build directory keeps build-test on the default compiler.
fuzz-build: deps
	CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOSTLINE_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS)

fuzz: fuzz-build
	scripts/run-fuzzers.sh build-fuzz $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	scripts/run-fuzzers.sh build-fuzz $(FUZZ_SMOKE_SECONDS)

format:
	find common agent controller chat cli tests bench -name '*.[ch]pp' | xargs clang-format -i

clean:
	rm -rf build build-test build-bench build-fuzz build-package
