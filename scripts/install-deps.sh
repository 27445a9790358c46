#!/usr/bin/env bash
# Installs every Debian 12 package Hostline needs to build, test and benchmark.
# Idempotent: packages already present are skipped, and apt is not touched at all
# when nothing is missing, so `make run` and `make test` stay fast on a set-up machine.
#   --bench  also the peers the benchmarks compare with (make bench passes it)
set -euo pipefail

bench=false
for arg in "$@"; do
  case "$arg" in
    --bench) bench=true ;;
    *) echo "install-deps: unknown option $arg (--bench)" >&2; exit 2 ;;
  esac
done

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang-format
  # the fuzz targets (make fuzz): clang with libFuzzer's runtime (libclang_rt.fuzzer)
  clang-14 libclang-rt-14-dev
  # libraries (DESIGN.md, Dependencies)
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libboost1.74-dev libsqlitecpp-dev
  libsqlite3-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libtomlplusplus-dev
  libcli11-dev libssl-dev libhowardhinnant-date-dev libsodium-dev liblz4-dev
  # the tz database the schedules' time zones come from (date-tz reads /usr/share/zoneinfo)
  tzdata
  libgtest-dev libgmock-dev libbenchmark-dev
  # tests and benchmarks (ngircd and openssl: a real IRC server, with a test certificate,
  # for the IRC adapter's tests)
  procps sqlite3 curl ngircd openssl
  # make package (dpkg-shlibdeps, dpkg-buildflags) and make package-test (a Debian 12 root
  # from debootstrap, unshare/nsenter/setpriv for the daemons in it, ip for its loopback,
  # lintian)
  dpkg-dev debootstrap util-linux iproute2 lintian
)

# The browser tests (docs/browser-tests.md): Debian's chromium, driven by playwright-core from
# npm. node and npm only where there are none: a node from elsewhere (NodeSource's ships its
# own npm) conflicts with Debian's npm package.
packages+=(chromium)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

# The fan-out scenario's peers (docs/performance.md, "Fan-out and throughput"): Ansible ad-hoc
# with connection=local and pdsh's exec module, as Debian ships them. Only for `make bench`:
# ansible-core brings a Python stack nothing else needs.
if $bench; then
  packages+=(ansible-core pdsh)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

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

# playwright-core for the browser tests, exactly as package-lock.json pins it, only when
# node_modules is missing or older than the lock (npm writes node_modules/.package-lock.json on
# every install). Playwright must not fetch a browser of its own: the tests use Debian's.
browser_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
if [ "$browser_dir/package-lock.json" -nt "$browser_dir/node_modules/.package-lock.json" ]; then
  echo "install-deps: npm ci in tests/browser"
  (cd "$browser_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# The official Slack and Bot Framework SDKs the fakes are checked against (docs/sdk-checks.md),
# exactly as tests/sdk/package-lock.json pins them, only when node_modules is missing or older
# than the lock. Pinned to versions that run on Debian 12's node 18 as well as on node 20.
sdk_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/sdk"
if [ "$sdk_dir/package-lock.json" -nt "$sdk_dir/node_modules/.package-lock.json" ]; then
  echo "install-deps: npm ci in tests/sdk"
  (cd "$sdk_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
