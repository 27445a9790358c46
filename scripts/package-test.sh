#!/usr/bin/env bash
# make package-test: installs the three .deb files into a fresh Debian 12 root made with
# debootstrap, as an admin would with apt, and uses them there: the controller as its user,
# an agent enrolled with a token, a command end to end, then a reinstall (the upgrade path)
# that must keep the controller's data. Finally lintian on the packages.
#
#   scripts/package-test.sh [BUILD_DIR]      (default build-package; needs root)
#
# The root has no systemd, so a policy-rc.d refuses every service start (as in any chroot)
# and the daemons are started by hand, in a network namespace of their own: the packaged
# default ports (7420, 7480) cannot clash with anything on this machine. The debootstrap
# result is cached in ~/.cache/hostline/ (HOSTLINE_PACKAGE_TEST_REFRESH=1 makes it anew);
# every run unpacks a fresh root from it and removes it at the end.
#
# One PASS/FAIL line per step; exit 1 on any failure.
set -uo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$(cd "${1:-$repo/build-package}" && pwd)"
mirror="${HOSTLINE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/hostline"
cache="$cache_dir/debian12-bookworm-minbase.tar.gz"

if [ "$(id -u)" -ne 0 ]; then
  echo "package-test: needs root (debootstrap, chroot, namespaces)" >&2
  exit 2
fi
# Every mount below lives in a mount namespace of this script's own: whatever happens, none
# outlives it on the machine.
if [ -z "${HOSTLINE_PACKAGE_TEST_NS:-}" ]; then
  HOSTLINE_PACKAGE_TEST_NS=1 exec unshare --mount --propagation private "$0" "$build_dir"
fi

failures=0
step_pass() { printf 'PASS: %s\n' "$1"; }
step_fail() {
  printf 'FAIL: %s\n' "$1"
  failures=$((failures + 1))
}
# check NAME COMMAND...: runs COMMAND, prints its output only when it fails.
check() {
  local name="$1" out
  shift
  if out="$("$@" 2>&1)"; then
    step_pass "$name"
  else
    step_fail "$name"
    printf '%s\n' "$out" | tail -n 40 | sed 's/^/    /'
    return 1
  fi
}

shopt -s nullglob
debs=("$build_dir"/hostline-controller_*.deb "$build_dir"/hostline-agent_*.deb "$build_dir"/hostline_*.deb)
if [ ${#debs[@]} -ne 3 ]; then
  echo "package-test: want exactly one hostline-controller, hostline-agent and hostline .deb in $build_dir (make package), found: ${debs[*]:-none}" >&2
  exit 2
fi
version="$(dpkg-deb -f "${debs[0]}" Version)"
upstream_version="${version%-*}"

work="$(mktemp -d /tmp/hostline-package-test.XXXXXX)"
root="$work/root"
netns="$work/netns"
pids=()

cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  umount "$netns" 2>/dev/null || true
  for m in "$root/dev/pts" "$root/dev" "$root/proc"; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Runs a command in the root, in the test's network namespace, with a clean environment.
in_root() {
  nsenter --net="$netns" chroot "$root" \
    /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root "$@"
}
# The same on this machine's network, for apt to reach Debian's archive.
apt_in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root \
    DEBIAN_FRONTEND=noninteractive "$@"
}
# What a maintainer script printed while apt configured PACKAGE, from apt's log.
postinst_output() {
  sed -n "/^Setting up $1 /,/^\(Setting up\|Processing triggers\) /p" "$2" |
    grep -v '^\(Setting up\|Processing triggers\) ' | sed "s/^/    $1 postinst: /"
}
# The CLI as the admin would run it on the controller's host.
cli() { in_root HOSTLINE_TOKEN_FILE=/var/lib/hostline/admin.token /usr/bin/hostline "$@"; }

# stop PID: SIGTERM, then up to 10 s for it to exit.
stop() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  return 1
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

start_controller() {
  nsenter --net="$netns" chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
    setpriv --reuid=hostline --regid=hostline --init-groups -- \
    /usr/bin/hostline-controller --config /etc/hostline/controller.toml \
    >>"$work/controller.log" 2>&1 &
  controller_pid=$!
  pids+=("$controller_pid")
  wait_for 30 cli agents
}

start_agent() {
  # Not through in_root: a function in the background is a subshell, and $! would be its PID.
  nsenter --net="$netns" chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 /usr/bin/hostline-agent --config /etc/hostline/agent.toml \
    >>"$work/agent.log" 2>&1 &
  agent_pid=$!
  pids+=("$agent_pid")
  wait_for 30 agent_online
}
agent_online() { cli agents | grep -q "^$agent_name .*online"; }

echo "package-test: ${debs[*]##*/}"

# 1. A fresh Debian 12 root.
if [ ! -s "$cache" ] || [ -n "${HOSTLINE_PACKAGE_TEST_REFRESH:-}" ]; then
  mkdir -p "$cache_dir"
  echo "package-test: debootstrap bookworm (minbase) from $mirror, cached in $cache"
  if ! debootstrap --variant=minbase bookworm "$work/bootstrap" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    ! tar -C "$work/bootstrap" -czf "$cache.tmp" . || ! mv "$cache.tmp" "$cache"; then
    step_fail "debootstrap a Debian 12 root"
    tail -n 20 "$work/debootstrap.log" | sed 's/^/    /'
    exit 1
  fi
  rm -rf "$work/bootstrap"
fi
mkdir -p "$root"
check "unpack a fresh Debian 12 root" tar -C "$root" -xzf "$cache" || exit 1

# No systemd here: services are never started by maintainer scripts (deb-systemd-invoke and
# invoke-rc.d ask policy-rc.d), as in any chroot or image build.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# As the Debian installer writes it: the host's name resolves (enrollment tokens name the
# controller by it).
printf '127.0.1.1\t%s\n' "$(hostname)" >>"$root/etc/hosts"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
touch "$netns"
check "a network namespace of its own, lo up" \
  sh -c "unshare --net='$netns' true && nsenter --net='$netns' ip link set lo up" || exit 1

# 2. apt installs the packages and resolves their Depends from Debian's archive.
mkdir -p "$root/tmp/debs"
cp "${debs[@]}" "$root/tmp/debs/"
apt_in_root apt-get update -qq >"$work/apt.log" 2>&1
if apt_in_root sh -c 'cd /tmp/debs && apt-get install -y --no-install-recommends \
    ./hostline-controller_*.deb ./hostline-agent_*.deb ./hostline_*.deb' \
    >>"$work/apt.log" 2>&1; then
  step_pass "apt-get install ./hostline-controller_*.deb ./hostline-agent_*.deb ./hostline_*.deb"
  postinst_output hostline-controller "$work/apt.log"
else
  step_fail "apt-get install ./hostline-controller_*.deb ./hostline-agent_*.deb ./hostline_*.deb"
  tail -n 40 "$work/apt.log" | sed 's/^/    /'
  exit 1
fi

# 3. What the packages and their postinst left.
check "binaries report version $upstream_version" sh -c "
  $(declare -f in_root); netns='$netns' root='$root'
  in_root hostline-controller --version | grep -qx 'hostline-controller $upstream_version' &&
  in_root hostline-agent --version | grep -qx 'hostline-agent $upstream_version' &&
  in_root hostline --version | grep -qx 'hostline $upstream_version'"
check "system user and group hostline (no login shell)" sh -c "
  $(declare -f in_root); netns='$netns' root='$root'
  in_root getent passwd hostline | grep -q ':/var/lib/hostline:/usr/sbin/nologin\$' &&
  in_root getent group hostline >/dev/null"
# owner_mode PATH USER:GROUP MODE
owner_mode() {
  local got  # stat in the root: its users, not this machine's
  got="$(in_root stat -c '%U:%G %a' "$1" 2>&1)"
  [ "$got" = "$2 $3" ] || { echo "$1: $got, want $2 $3"; return 1; }
}
check "/var/lib/hostline is hostline's, 0750" owner_mode /var/lib/hostline hostline:hostline 750
check "controller key pair made by init (key 0600)" sh -c "
  $(declare -f in_root owner_mode); netns='$netns' root='$root'
  owner_mode /var/lib/hostline/keys/controller.key hostline:hostline 600 &&
  test -s '$root/var/lib/hostline/keys/controller.pub'"
check "admin token made by init (0600, hostline's)" owner_mode /var/lib/hostline/admin.token hostline:hostline 600
check "database made by init, hostline's" sh -c "
  $(declare -f in_root owner_mode); netns='$netns' root='$root'
  owner_mode /var/lib/hostline/hostline.db hostline:hostline \$(stat -c %a '$root/var/lib/hostline/hostline.db')"
check "/var/lib/hostline-agent is root's, 0700" owner_mode /var/lib/hostline-agent root:root 700
check "conffiles listed by dpkg-query" sh -c "
  $(declare -f in_root); netns='$netns' root='$root'
  in_root dpkg-query -W -f='\${Conffiles}\n' hostline-controller | grep -q '^ /etc/hostline/controller.toml ' &&
  in_root dpkg-query -W -f='\${Conffiles}\n' hostline-agent | grep -q '^ /etc/hostline/agent.toml '"
check "agent.toml has no [controller] section" sh -c "! grep -q '^\[controller\]' '$root/etc/hostline/agent.toml'"
check "units enabled, not started (policy-rc.d)" sh -c "
  test -L '$root/etc/systemd/system/multi-user.target.wants/hostline-controller.service' &&
  test -L '$root/etc/systemd/system/multi-user.target.wants/hostline-agent.service'"
check "hostline-controller --check-config on the packaged config" \
  in_root runuser -u hostline -- hostline-controller --config /etc/hostline/controller.toml --check-config

# 4. The controller as its user, a token, the agent enrolled and started by hand.
# in_this_shell NAME COMMAND...: as check, for a command that must change this shell's state
# (the daemons' PIDs).
in_this_shell() {
  local name="$1"
  shift
  if "$@"; then step_pass "$name"; else step_fail "$name"; return 1; fi
}
in_this_shell "controller starts as hostline and answers the CLI" start_controller || {
  tail -n 20 "$work/controller.log" | sed 's/^/    /'
  exit 1
}
check "controller runs as user hostline" sh -c "$(declare -f in_root); netns='$netns' root='$root'; test \"\$(in_root stat -c %U /proc/$controller_pid)\" = hostline"
agent_name=pkgtest-agent
token="$(cli agents token create --labels role=pkgtest --ttl 10m --uses 1 2>"$work/token.err")"
if [ -n "$token" ]; then step_pass "hostline agents token create"; else
  step_fail "hostline agents token create"; sed 's/^/    /' "$work/token.err"; exit 1
fi
if in_root hostline-agent enroll "$token" --name "$agent_name" >"$work/enroll.log" 2>&1; then
  step_pass "hostline-agent enroll TOKEN"
  sed 's/^/    enroll: /' "$work/enroll.log"
else
  step_fail "hostline-agent enroll TOKEN"
  sed 's/^/    /' "$work/enroll.log"
  exit 1
fi
check "enroll, without systemd, says how to start the agent" \
  grep -q 'hostline-agent --config' "$work/enroll.log"
check "hostline-agent --check-config reads the controller from the enrollment" sh -c "
  $(declare -f in_root); netns='$netns' root='$root'
  in_root hostline-agent --check-config | grep -q 'from /var/lib/hostline-agent/enrollment.toml'"
check "enroll left the conffile agent.toml as packaged" sh -c "
  $(declare -f in_root); netns='$netns' root='$root'
  in_root dpkg --verify hostline-agent"
in_this_shell "agent starts by hand and is online" start_agent || {
  tail -n 20 "$work/agent.log" | sed 's/^/    /'
  exit 1
}

# 5. A command end to end: what the agent's process printed is what the CLI shows.
marker="package-test-$$-$RANDOM"
if cli run --on "$agent_name" -- sh -c "echo $marker; id -un" >"$work/run.log" 2>&1 &&
  grep -qx "$agent_name | $marker" "$work/run.log" && grep -qx "$agent_name | root" "$work/run.log"; then
  step_pass "hostline run on the agent, output end to end"
else
  step_fail "hostline run on the agent, output end to end"
  sed 's/^/    /' "$work/run.log"
fi

# 6. The upgrade path: the same packages again (postinst and init run again) with a
# changed conffile; the controller's data must survive and the admin's change stay.
check "controller stops on SIGTERM" stop "$controller_pid"
check "agent stops on SIGTERM" stop "$agent_pid"
keys_before="$(cat "$root/var/lib/hostline/keys/controller.pub" "$root/var/lib/hostline/admin.token" | sha256sum)"
echo '# changed by the admin' >>"$root/etc/hostline/controller.toml"
if apt_in_root sh -c 'cd /tmp/debs && apt-get install -y --reinstall \
    ./hostline-controller_*.deb ./hostline-agent_*.deb ./hostline_*.deb' \
    >"$work/reinstall.log" 2>&1; then
  step_pass "apt-get install --reinstall of the same packages (postinst again)"
  postinst_output hostline-controller "$work/reinstall.log"
else
  step_fail "apt-get install --reinstall of the same packages (postinst again)"
  tail -n 40 "$work/reinstall.log" | sed 's/^/    /'
  exit 1
fi
check "init, run again by the postinst, had nothing to do" \
  grep -q 'postinst: nothing to do' <(postinst_output hostline-controller "$work/reinstall.log")
check "the admin's change to controller.toml is kept" \
  grep -qx '# changed by the admin' "$root/etc/hostline/controller.toml"
check "keys and admin token unchanged" \
  test "$(cat "$root/var/lib/hostline/keys/controller.pub" "$root/var/lib/hostline/admin.token" | sha256sum)" = "$keys_before"
in_this_shell "controller starts again after the reinstall" start_controller || exit 1
if cli job 1 --output >"$work/job.log" 2>&1 && grep -q "$marker" "$work/job.log"; then
  step_pass "the job and its output survived the reinstall"
else
  step_fail "the job and its output survived the reinstall"
  sed 's/^/    /' "$work/job.log"
fi
in_this_shell "agent comes back with its enrollment" start_agent
check "controller stops on SIGTERM" stop "$controller_pid"
check "agent stops on SIGTERM" stop "$agent_pid"

# Every process whose root is the test's root: none may be left once the daemons stopped.
nothing_left_in_root() {
  local p left=0
  for p in /proc/[0-9]*; do
    if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then
      ps -o pid=,args= -p "${p#/proc/}"
      left=1
    fi
  done
  return $left
}
check "no process left running in the root" nothing_left_in_root

# 7. lintian: no errors (the warnings it prints are listed in docs/operations.md).
if lintian --fail-on error --tag-display-limit 0 "${debs[@]}" >"$work/lintian.log" 2>&1; then
  step_pass "lintian --fail-on error"
else
  step_fail "lintian --fail-on error"
fi
sed 's/^/    lintian: /' "$work/lintian.log"

if [ "$failures" -eq 0 ]; then
  echo "package-test: PASS"
else
  echo "package-test: FAIL ($failures step(s))"
  echo "--- controller log ---"; tail -n 30 "$work/controller.log" 2>/dev/null
  echo "--- agent log ---"; tail -n 30 "$work/agent.log" 2>/dev/null
  exit 1
fi
