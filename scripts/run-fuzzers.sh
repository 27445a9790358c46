#!/usr/bin/env bash
# Runs each libFuzzer target of a HOSTLINE_FUZZ build for a fixed time, one after another.
#
#   scripts/run-fuzzers.sh BUILD_DIR SECONDS [TARGET...]
#
# Targets are BUILD_DIR/bin/<name>_fuzzer (all of them unless some are named), with
# tests/fuzz/<name>.dict and <name>.options when they exist. Each starts from
# tests/fuzz/corpus/<name>/, copied into BUILD_DIR/corpus/<name>/ where the fuzzer adds
# what it finds, so the committed corpus changes only when a developer copies inputs back.
# Crash, leak, timeout and out-of-memory inputs go to BUILD_DIR/artifacts/<name>/, the
# fuzzer's whole output to BUILD_DIR/logs/<name>.log. Prints one line per target; a target
# that failed also gets the input's path and the fuzzer's report. Exits 1 if any failed.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
  exit 2
fi
build_dir=$1
seconds=$2
shift 2
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for binary in "$build_dir"/bin/*_fuzzer; do
    [ -x "$binary" ] || continue
    name=${binary##*/}
    targets+=("${name%_fuzzer}")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "run-fuzzers: no *_fuzzer in $build_dir/bin (configure with -DHOSTLINE_FUZZ=ON)" >&2
  exit 2
fi

# The value after `key` in the last line of log that has it ("cov: 512" -> 512), or "-".
last_value() {
  local key=$1 log=$2
  grep -o "$key *[0-9]*" "$log" | tail -n 1 | grep -o '[0-9]*$' || echo -
}

# UBSan must stop at the first finding so that libFuzzer saves the input.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
mkdir -p "$build_dir/logs"
for name in "${targets[@]}"; do
  binary=$build_dir/bin/${name}_fuzzer
  corpus=$build_dir/corpus/$name
  artifacts=$build_dir/artifacts/$name
  log=$build_dir/logs/$name.log
  if [ ! -x "$binary" ]; then
    echo "run-fuzzers: $binary is not built" >&2
    exit 2
  fi
  mkdir -p "$corpus" "$artifacts"
  if [ -d "$source_dir/tests/fuzz/corpus/$name" ]; then
    cp -n "$source_dir/tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null || true
  fi
  options=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
    -artifact_prefix="$artifacts/")
  if [ -f "$source_dir/tests/fuzz/$name.dict" ]; then
    options+=(-dict="$source_dir/tests/fuzz/$name.dict")
  fi
  # A target's own libFuzzer flags, one per line (e.g. -max_len past the limits it checks).
  if [ -f "$source_dir/tests/fuzz/$name.options" ]; then
    while read -r flag; do
      [[ -z "$flag" || "$flag" == \#* ]] || options+=("$flag")
    done <"$source_dir/tests/fuzz/$name.options"
  fi

  status=0
  "$binary" "${options[@]}" "$corpus" >"$log" 2>&1 || status=$?

  runs=$(last_value 'stat::number_of_executed_units:' "$log")
  speed=$(last_value 'stat::average_exec_per_sec:' "$log")
  cov=$(last_value 'cov:' "$log")
  if [ "$status" -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $status)"
    failed+=("$name")
  fi
  printf '%-14s runs %10s  exec/s %7s  cov %5s  %s\n' "$name" "$runs" "$speed" "$cov" "$result"
  if [ "$status" -ne 0 ]; then
    input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    echo "  input: ${input:-none written (see $log)}"
    echo "  report ($log):"
    grep -v -e '^#[0-9]' -e '^INFO:' "$log" | tail -n 100 | sed 's/^/    /'
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "run-fuzzers: failed: ${failed[*]} (reproduce: $build_dir/bin/NAME_fuzzer INPUT)" >&2
  exit 1
fi
