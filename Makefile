# Prospect AI: the two commands of the README (`make run`, `make test`) and their helpers.
# Every target first installs missing Debian packages (scripts/install-deps is quiet when
# everything is there).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Tests run two at a time: most of their time is waiting on processes and sockets, not CPU (every
# test uses its own free ports, Redis, gateway and workers; the MCP conformance runs take a lock).
CTEST_JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps build build-asan run test test-deploy test-unit test-asan bench fuzz clean format check-format

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j$(JOBS)

build-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPA_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-asan -j$(JOBS)

run: build
	@scripts/run

# The whole suite: unit and integration tests, then the same tests built with
# AddressSanitizer + UndefinedBehaviorSanitizer (leak detection on).
test: check-format build build-asan
	@echo "== tests (release build) =="
	@ctest --test-dir build -j$(CTEST_JOBS) --output-on-failure --timeout 300
	@echo "== tests (ASan + UBSan build) =="
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build-asan -j$(CTEST_JOBS) --output-on-failure --timeout 600

# The compose project (deploy/) end to end with podman and podman-compose: images built, the
# project up, scaled to 3 form workers, one killed mid-job, the job complete, everything removed
# (scripts/test-deploy). Skipped, with a message, where containers cannot run (not root).
test-deploy:
	@if [ "$$(id -u)" -eq 0 ]; then scripts/install-deps deploy; fi
	@scripts/test-deploy

test-unit: build
	@ctest --test-dir build --output-on-failure -R '^unit\.'

bench: build
	@scripts/bench/run-all

fuzz: deps
	@scripts/fuzz

# Every C file of the repository, by the root .clang-format; `make test` checks it.
format: deps
	@git ls-files '*.c' '*.h' | xargs clang-format -i

check-format: deps
	@scripts/check-format

clean:
	rm -rf build build-asan build-fuzz
