#!/usr/bin/env bash
# Where one server's time goes under load: the server pinned to SERVER_CPU, wrk to CLIENT_CPU (pipelined
# /plaintext by default, as bench/load.sh runs it), and, while wrk runs, `perf record -e cpu-clock` and `perf stat`
# of the server's system calls. Prints the requests per second, the server's user and kernel CPU time per
# request, its system calls per read, and the functions that took the most CPU time, in ns per request.
# See bench/README.md, "Profiles under load".
#
#   bench/profile.sh rotor-cio                          # pipelined /plaintext, 256 connections, depth 16
#   ENDPOINT=json DEPTH=1 CONNECTIONS=64 bench/profile.sh hyper
#   BINARY=/tmp/rotor-cio-before bench/profile.sh rotor-cio   # another build of the same server (an A/B)
#
# Settings: ENDPOINT=plaintext (or json), CONNECTIONS=256, DEPTH=16 (1: unpipelined), DURATION=8 (seconds
# profiled), WARMUP=2, TOP=25 (functions listed), SERVER_CPU=0, CLIENT_CPU=1, PEERS_TARGET_DIR=bench/peers/target,
# SKIP_BUILD=1 (use what is built there), BINARY (a server binary to run instead of the one built), PROFILE_OUT
# (where perf.data and the logs go; default $PEERS_TARGET_DIR/profiles/<server>-<UTC time>).
#
# perf's sampling (about 4,000 samples a second) slows the server by a few per cent; compare profiles with each
# other, and take throughput from bench/load.sh. The CPU time per request is the server's CPU time from just
# before perf starts to just after it stops, over the requests of that time at the rate of the wrk run that
# brackets it. The system calls are counted over 2 s of a second wrk run (apart: the tracepoints slow every
# call, so they are given per read). perf needs root or kernel.perf_event_paranoid <= 0 for another process.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
peers=$bench/peers

server=${1:-}
ENDPOINT=${ENDPOINT:-plaintext}
CONNECTIONS=${CONNECTIONS:-256}
DEPTH=${DEPTH:-16}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-2}
TOP=${TOP:-25}
SYSCALL_SECONDS=2
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PEERS_TARGET_DIR=${PEERS_TARGET_DIR:-$peers/target}
SKIP_BUILD=${SKIP_BUILD:-0}

# shellcheck source=bench/servers.sh
source "$bench/servers.sh"

[[ -n $server && -n ${binary[$server]:-} ]] ||
    die "usage: bench/profile.sh <server>: one of hyper, axum, actix, rotor, rotor-cio, rotor-h1, h1-bare"
[[ $ENDPOINT == plaintext || $ENDPOINT == json ]] || die "ENDPOINT=$ENDPOINT: plaintext or json"
for number in CONNECTIONS DEPTH DURATION WARMUP TOP; do
    [[ ${!number} =~ ^[0-9]+$ ]] && ((${!number} >= 1)) || die "$number=${!number} is not a positive whole number"
done

if ! command -v wrk >/dev/null || ! command -v perf >/dev/null; then
    say "installing wrk and perf with apt-get"
    if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq wrk linux-perf >/dev/null
fi
for tool in wrk perf taskset awk; do command -v "$tool" >/dev/null || die "$tool is missing"; done

if [[ -z ${BINARY:-} && $SKIP_BUILD != 1 ]]; then
    command -v cargo >/dev/null || die "cargo is missing (SKIP_BUILD=1 uses what is built)"
    say "building $server (release: fat LTO, one codegen unit) into $PEERS_TARGET_DIR"
    cargo build --release --locked --manifest-path "$peers/Cargo.toml" --target-dir "$PEERS_TARGET_DIR" \
        -p "${package[$server]}"
fi
program=${BINARY:-$PEERS_TARGET_DIR/release/${binary[$server]}}
[[ -x $program ]] || die "$program is not built"
out=${PROFILE_OUT:-$PEERS_TARGET_DIR/profiles/$server-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"

need_files=$((CONNECTIONS + 1024))
if (($(ulimit -n) < need_files)); then ulimit -n "$need_files" 2>/dev/null || die "cannot raise ulimit -n to $need_files"; fi

server_pid=
wrk_pid=
cleanup() {
    if [[ -n $wrk_pid ]]; then kill "$wrk_pid" 2>/dev/null || true; fi
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=0 RUST_LOG=info taskset -c "$SERVER_CPU" "$program" >"$out/server.log" 2>&1 &
server_pid=$!
waited=0
until port=$(grep -m1 -oE '(127\.0\.0\.1|localhost):[0-9]+' "$out/server.log" | cut -d: -f2) && [[ -n $port ]]; do
    kill -0 "$server_pid" 2>/dev/null || die "$server exited before it was ready: $(cat "$out/server.log")"
    ((waited++ < 600)) || die "$server did not say where it listens within 30 s"
    sleep 0.05
done

# wrk itself (taskset execs it), so that `$!` is wrk and the cleanup stops it.
wrk_for "$ENDPOINT" "$CONNECTIONS" "$DEPTH"
url=http://127.0.0.1:$port/$ENDPOINT
rps_of() { # rps_of <wrk output file>: the requests per second it reports
    local rps
    rps=$(grep -oE 'rps=[0-9.]+' "$1" | cut -d= -f2) || true
    [[ -n $rps ]] || die "no result from wrk: $(cat "$1")"
    grep -qE 'connect=0 read=0 write=0 status=0 timeout=0' "$1" ||
        say "warning: wrk counted errors: $(grep -oE 'connect=.*' "$1")"
    echo "$rps"
}
say "$server ($program) on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU: /$ENDPOINT, $CONNECTIONS connections, depth $DEPTH"
"${wrk[@]}" -d"${WARMUP}s" "$url" "${args[@]}" >/dev/null || die "the warm-up run of wrk failed"
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$server_pid/stat"; }
# The profile, inside a wrk run with a second before it and the time perf takes to start and stop after it.
"${wrk[@]}" -d"$((DURATION + 4))s" "$url" "${args[@]}" >"$out/wrk.txt" &
wrk_pid=$!
sleep 1
read -r user0 system0 < <(cpu_ticks)
started=$(date +%s.%N)
perf record -q -e cpu-clock -F 3999 -p "$server_pid" -o "$out/perf.data" -- sleep "$DURATION" \
    >"$out/perf-record.log" 2>&1 ||
    die "perf record failed (root, or kernel.perf_event_paranoid <= 0, is needed): $(cat "$out/perf-record.log")"
read -r user1 system1 < <(cpu_ticks)
ended=$(date +%s.%N)
wait "$wrk_pid" || die "wrk failed: $(cat "$out/wrk.txt")"
wrk_pid=
rps=$(rps_of "$out/wrk.txt")
# The system calls, in a run of their own.
"${wrk[@]}" -d"$((SYSCALL_SECONDS + 3))s" "$url" "${args[@]}" >"$out/wrk-syscalls.txt" &
wrk_pid=$!
sleep 1
perf stat -x, -o "$out/syscalls.csv" -p "$server_pid" -e raw_syscalls:sys_enter,syscalls:sys_enter_recvfrom \
    -e syscalls:sys_enter_read,syscalls:sys_enter_sendto,syscalls:sys_enter_write,syscalls:sys_enter_writev \
    -e syscalls:sys_enter_epoll_wait -- sleep "$SYSCALL_SECONDS" 2>"$out/perf-stat.log" ||
    die "perf stat failed: $(cat "$out/perf-stat.log")"
wait "$wrk_pid" || die "wrk failed: $(cat "$out/wrk-syscalls.txt")"
wrk_pid=
rps_of "$out/wrk-syscalls.txt" >/dev/null

hz=$(getconf CLK_TCK)
# perf takes a moment to start and to stop: the CPU time is over the seconds between the two readings.
requests=$(awk -v r="$rps" -v a="$started" -v b="$ended" 'BEGIN { printf "%.0f", r * (b - a) }')
awk -v r="$rps" -v u=$((user1 - user0)) -v s=$((system1 - system0)) -v hz="$hz" -v n="$requests" 'BEGIN {
    printf "%s req/s; server CPU per request: user %.3f us, kernel %.3f us (%.2f s user, %.2f s kernel in %.2f s)\n",
        r, u / hz * 1e6 / n, s / hz * 1e6 / n, u / hz, s / hz, n / r }'
# Counted while the tracepoints slow the server, so given per read (recvfrom or read) rather than per request.
awk -F, -v seconds="$SYSCALL_SECONDS" '$3 ~ /syscalls/ && $1 ~ /^[0-9]+$/ {
        name = $3; sub(/.*sys_enter_?/, "", name); if (name == "") name = "all"
        count[name] = $1; order[++names] = name
    }
    END {
        reads = count["recvfrom"] + count["read"]
        if (reads == 0) { print "no reads counted"; exit }
        printf "system calls in %d s: %d reads;", seconds, reads
        for (i = 1; i <= names; i++) if (order[i] != "recvfrom" && order[i] != "read") printf " %s %.3f", order[i], count[order[i]] / reads
        print " per read"
    }' "$out/syscalls.csv"
# Each function's share of the samples, as ns per request of the server's CPU time (user + kernel).
perf report -i "$out/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null |
    awk -v top="$TOP" -v u=$((user1 - user0)) -v s=$((system1 - system0)) -v hz="$hz" -v n="$requests" '
        /^#/ || NF < 4 { next }
        {
            share = $1; sub(/%/, "", share)
            dso = $2; name = $0; sub(/^ *[0-9.]+% +[^ ]+ +\[[.kgu]\] +/, "", name)
            if (shown++ < top) printf "%8.1f ns  %5.2f%%  %-22s %s\n", share / 100 * (u + s) / hz * 1e9 / n, share, dso, substr(name, 1, 110)
        }'
say "perf.data, wrk's output and the server's log: $out (perf report -i $out/perf.data)"
