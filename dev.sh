#!/usr/bin/env bash
# The two commands of the README:
#   ./dev.sh demo   install what is missing, build, ship the bundled sample to an embedded broker
#                   and to SQLite, then run the seed's queries (conf/queries.sql) on it
#   ./dev.sh test   install what is missing, build, run the whole test suite (what CI runs)
set -euo pipefail
cd "$(dirname "$0")"
JOBS=${JOBS:-$(nproc)}

configure_and_build() {
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

case "${1:-}" in
  demo)
    bash scripts/deps.sh
    configure_and_build build -DAUDITSHIP_TESTS=OFF -DAUDITSHIP_BENCH=OFF
    rm -rf build/demo-state
    echo "== auditship run -c conf/demo.yaml --once --show 3"
    ./build/auditship run -c conf/demo.yaml --once --show 3
    # The same records in SQLite (sqlite.path in conf/demo.yaml), queried with the seed's queries.
    echo
    echo "== sqlite3 -header -column build/demo-state/audit.db < conf/queries.sql"
    sqlite3 -header -column build/demo-state/audit.db < conf/queries.sql
    ;;
  test)
    bash scripts/deps.sh
    # 1. ASan+UBSan (clang): every fuzz target for a bounded time (label `fuzz`, 10 s each), and
    #    the unit and integration suites under the sanitizers (one integration test at a time,
    #    with unit and fuzz tests on the other core). The chaos suite runs only in
    #    step 2: it measures RSS and recovery times, which ASan's shadow memory would distort.
    # Compile time is most of CI's time (Beast/Asio templates): the sanitizer tree is built at
    # -O1 with line tables only (enough for ASan's reports), the plain tree without debug info
    # (-35 % per heavy file, measured; perf still sees function names, add -g for line-level).
    configure_and_build build-asan -DCMAKE_CXX_COMPILER=clang++-14 -DAUDITSHIP_FUZZ=ON \
      -DAUDITSHIP_SANITIZE=address,undefined -DAUDITSHIP_BENCH=OFF -DAUDITSHIP_WERROR=ON \
      -DAUDITSHIP_TEST_SUITES="unit;integration" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG"
    (cd build-asan && ctest --output-on-failure -L 'fuzz|unit|integration' -j "$JOBS")
    # 2. The release build (agent, benchmarks, chaos suite); its ctest summary ends the output.
    # Unit and integration tests ran above under ASan+UBSan (the integration tests assert
    # nothing the sanitizers change), so they are not built twice; the plain tree runs what
    # needs real speed and memory figures (chaos: RSS bounds, outages), the sample configs and
    # the package check. (Configure build/ with -DAUDITSHIP_TEST_SUITES="unit;integration;chaos",
    # the default, to get every suite back there.)
    configure_and_build build -DAUDITSHIP_WERROR=ON -DAUDITSHIP_TEST_SUITES=chaos \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG"
    cd build
    ctest --output-on-failure --timeout 900 -j "$JOBS" -L 'unit|chaos|package'
    ;;
  *)
    echo "usage: ./dev.sh demo|test" >&2
    exit 2
    ;;
esac
