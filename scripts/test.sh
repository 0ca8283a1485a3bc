#!/usr/bin/env bash
# Sets up a new machine, builds edgecap, and runs every test:
#   1. style (clang-format),
#   2. the release build with warnings as errors: unit, integration and live
#      suites (live needs root for network namespaces),
#   3. a clang build with AddressSanitizer + UndefinedBehaviorSanitizer:
#      the unit and integration suites again, then every fuzz target for a
#      bounded time (EDGECAP_FUZZ_SECONDS, default 60 each). It targets the
#      package's baseline CPU (x86-64-v2), so the portable code paths that
#      the release build's -march=native compiles out are tested too.
# Ends with one line "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "setup failed" >&2; exit 1; }

passed=0
failed=0
failures=()

record() {  # name, status
  if [[ $2 -eq 0 ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$1")
  fi
}

# Counts meson's results from its JSON log, so the closing line adds up every
# individual test, not every stage.
count_meson() {  # build dir, stage name
  local log="$1/meson-logs/testlog.json"
  [[ -f $log ]] || { record "$2 (no test log)" 1; return; }
  local ok bad
  ok=$(python3 -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
print(sum(r["result"] in ("OK","EXPECTEDFAIL","SKIP") for r in rows))' "$log")
  bad=$(python3 -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
for r in rows:
    if r["result"] not in ("OK","EXPECTEDFAIL","SKIP"): print(r["name"])' "$log")
  passed=$((passed + ok))
  if [[ -n $bad ]]; then
    while read -r name; do
      failed=$((failed + 1))
      failures+=("$2: $name")
    done <<<"$bad"
  fi
}

echo "== style"
mapfile -t sources < <(git ls-files '*.h' '*.cpp')
if clang-format --dry-run --Werror "${sources[@]}"; then
  record style 0
else
  record style 1
fi

echo "== release build"
if [[ ! -f build/build.ninja ]]; then
  meson setup build --werror >/dev/null
fi
meson configure build -Db_lto=true >/dev/null  # an older tree too
if ninja -C build; then
  suites=(--suite unit --suite integration)
  if [[ $(id -u) -eq 0 ]]; then
    suites+=(--suite live)
  else
    echo "not root: skipping the live suite (network namespaces need root)"
  fi
  meson test -C build --print-errorlogs --num-processes 2 "${suites[@]}"
  count_meson build release
else
  record "release build" 1
fi

echo "== sanitizer build (clang, ASan + UBSan) and fuzzing"
if [[ ! -f build-asan/build.ninja ]]; then
  CC=clang CXX=clang++ meson setup build-asan -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true \
    -Dbench=false -Dcpu=x86-64-v2 -Db_lto=false >/dev/null
fi
# An older tree too. No LTO: clang's needs its own linker plugin, and the
# sanitizers test the code, not the release build's inlining.
meson configure build-asan -Dcpu=x86-64-v2 -Db_lto=false >/dev/null
if ninja -C build-asan; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  meson test -C build-asan --print-errorlogs --num-processes 2 \
    --suite unit --suite integration --suite fuzz --no-suite package
  count_meson build-asan sanitizer
else
  record "sanitizer build" 1
fi

for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "tests: ${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
