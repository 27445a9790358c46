#!/usr/bin/env bash
# Installs every Debian 12 package Hostline needs to build, test and benchmark.
# Idempotent: packages already present are skipped, and apt is not touched at all
# when nothing is missing, so `make run` and `make test` stay fast on a set-up machine.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang-format
  # the fuzz targets (make fuzz): clang with libFuzzer's runtime (libclang_rt.fuzzer)
  clang-14 libclang-rt-14-dev
  # libraries (DESIGN.md, Dependencies)
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libboost1.74-dev libsqlitecpp-dev
  libsqlite3-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libtomlplusplus-dev
  libcli11-dev libssl-dev libhowardhinnant-date-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # tests and benchmarks (ngircd and openssl: a real IRC server, with a test certificate,
  # for the IRC adapter's tests)
  procps sqlite3 curl ngircd openssl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

# The IRC adapter's tests start ngircd themselves, with their own config on a free port on
# 127.0.0.1. The package's own daemon (port 6667) is not wanted: where the package started
# it, stop and disable it so nothing is left listening.
if [[ " ${missing[*]} " == *" ngircd "* ]]; then
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet ngircd 2>/dev/null; then
    "${sudo_cmd[@]}" systemctl disable --now ngircd || true
  elif command -v service >/dev/null 2>&1 && service ngircd status >/dev/null 2>&1; then
    "${sudo_cmd[@]}" service ngircd stop || true
  fi
fi
