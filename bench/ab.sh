#!/usr/bin/env bash
# A/B throughput of two servers on one load-comparison test, made to see through this VM's run-to-run noise:
# both servers run side by side on SERVER_CPU for the whole comparison, and ROUNDS short wrk runs alternate
# between them (A B, then B A, ...), so that a slow stretch of the machine falls on both. Prints each round's
# requests per second and the server's CPU time per request (user + kernel, from /proc), then the medians, the
# median of the per-round ratios B / A and a 95 % interval of that median (bootstrap over the rounds). See
# bench/README.md, "A/B runs".
#
#   bench/ab.sh hyper rotor-cio                              # pipelined /json, 256 connections, depth 16
#   ENDPOINT=plaintext DEPTH=1 CONNECTIONS=64 bench/ab.sh actix rotor-cio
#   A_BINARY=/tmp/rotor-cio-before bench/ab.sh rotor-cio rotor-cio   # two builds of one server
#
# Servers: hyper, axum, actix, rotor (Rotor on rotor-hyper), rotor-cio (Rotor on rotor-cio), rotor-h1, h1-bare.
# Settings: ENDPOINT=json (or plaintext), CONNECTIONS=256, DEPTH=16 (1: unpipelined), ROUNDS=15, DURATION=3
# (seconds per run), WARMUP=2 (per server, once), SERVER_CPU=0, CLIENT_CPU=1, PEERS_TARGET_DIR=bench/peers/target,
# SKIP_BUILD=1 (use what is built there), A_BINARY and B_BINARY (server binaries to run instead of the ones
# built), AB_OUT (where wrk's outputs and the logs go; default $PEERS_TARGET_DIR/ab/<UTC time>).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
peers=$bench/peers

a=${1:-}
b=${2:-}
ENDPOINT=${ENDPOINT:-json}
CONNECTIONS=${CONNECTIONS:-256}
DEPTH=${DEPTH:-16}
ROUNDS=${ROUNDS:-15}
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-2}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PEERS_TARGET_DIR=${PEERS_TARGET_DIR:-$peers/target}
SKIP_BUILD=${SKIP_BUILD:-0}

# shellcheck source=bench/servers.sh
source "$bench/servers.sh"

usage="usage: bench/ab.sh <server A> <server B>: each one of hyper, axum, actix, rotor, rotor-cio, rotor-h1, h1-bare"
[[ -n $a && -n $b && -n ${binary[$a]:-} && -n ${binary[$b]:-} ]] || die "$usage"
[[ $ENDPOINT == plaintext || $ENDPOINT == json ]] || die "ENDPOINT=$ENDPOINT: plaintext or json"
for number in CONNECTIONS DEPTH ROUNDS DURATION WARMUP; do
    [[ ${!number} =~ ^[0-9]+$ ]] && ((${!number} >= 1)) || die "$number=${!number} is not a positive whole number"
done

if ! command -v wrk >/dev/null; then
    say "installing wrk with apt-get"
    if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq wrk >/dev/null
fi
for tool in wrk taskset awk python3; do command -v "$tool" >/dev/null || die "$tool is missing"; done

if [[ $SKIP_BUILD != 1 ]]; then
    command -v cargo >/dev/null || die "cargo is missing (SKIP_BUILD=1 uses what is built)"
    packages=()
    [[ -n ${A_BINARY:-} ]] || packages+=(-p "${package[$a]}")
    [[ -n ${B_BINARY:-} ]] || packages+=(-p "${package[$b]}")
    if ((${#packages[@]} > 0)); then
        say "building ${packages[*]} (release: fat LTO, one codegen unit) into $PEERS_TARGET_DIR"
        cargo build --release --locked --manifest-path "$peers/Cargo.toml" --target-dir "$PEERS_TARGET_DIR" \
            "${packages[@]}"
    fi
fi
program_a=${A_BINARY:-$PEERS_TARGET_DIR/release/${binary[$a]}}
program_b=${B_BINARY:-$PEERS_TARGET_DIR/release/${binary[$b]}}
for program in "$program_a" "$program_b"; do [[ -x $program ]] || die "$program is not built"; done
out=${AB_OUT:-$PEERS_TARGET_DIR/ab/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"

need_files=$((CONNECTIONS + 1024))
if (($(ulimit -n) < need_files)); then ulimit -n "$need_files" 2>/dev/null || die "cannot raise ulimit -n to $need_files"; fi

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start <label> <program>: starts a server on SERVER_CPU; sets `pid` and `port`.
start() {
    local log=$out/server-$1.log waited=0
    PORT=0 RUST_LOG=info taskset -c "$SERVER_CPU" "$2" >"$log" 2>&1 &
    pid=$!
    pids+=("$pid")
    until port=$(grep -m1 -oE '(127\.0\.0\.1|localhost):[0-9]+' "$log" | cut -d: -f2) && [[ -n $port ]]; do
        kill -0 "$pid" 2>/dev/null || die "$1 exited before it was ready: $(cat "$log")"
        ((waited++ < 600)) || die "$1 did not say where it listens within 30 s"
        sleep 0.05
    done
}
start A "$program_a"
pid_a=$pid port_a=$port
start B "$program_b"
pid_b=$pid port_b=$port

wrk_for "$ENDPOINT" "$CONNECTIONS" "$DEPTH"
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }

# run <label> <pid> <port> <round>: one measured wrk run; appends "round label rps user_us kernel_us" (the
# server's CPU time per request) to the results.
run() {
    local file=$out/wrk-$1-$4.txt user0 kernel0 user1 kernel1 rps
    read -r user0 kernel0 < <(cpu_ticks "$2")
    "${wrk[@]}" -d"${DURATION}s" "http://127.0.0.1:$3/$ENDPOINT" "${args[@]}" >"$file" || die "wrk failed: $(cat "$file")"
    read -r user1 kernel1 < <(cpu_ticks "$2")
    kill -0 "$2" 2>/dev/null || die "server $1 exited: $(cat "$out/server-$1.log")"
    rps=$(grep -oE 'rps=[0-9.]+' "$file" | cut -d= -f2) || true
    [[ -n $rps ]] || die "no result from wrk: $(cat "$file")"
    grep -qE 'connect=0 read=0 write=0 status=0 timeout=0' "$file" ||
        die "wrk counted errors against $1: $(grep -oE 'connect=.*' "$file")"
    awk -v round="$4" -v label="$1" -v rps="$rps" -v user=$((user1 - user0)) -v kernel=$((kernel1 - kernel0)) \
        -v hz="$(getconf CLK_TCK)" -v seconds="$DURATION" 'BEGIN {
            n = rps * seconds
            printf "%d %s %.0f %.4f %.4f\n", round, label, rps, user / hz * 1e6 / n, kernel / hz * 1e6 / n
        }' >>"$out/results.txt"
}

say "A: $a ($program_a), B: $b ($program_b), on CPU $SERVER_CPU; wrk on CPU $CLIENT_CPU: /$ENDPOINT," \
    "$CONNECTIONS connections, depth $DEPTH, $ROUNDS rounds of ${DURATION} s each"
"${wrk[@]}" -d"${WARMUP}s" "http://127.0.0.1:$port_a/$ENDPOINT" "${args[@]}" >/dev/null || die "the warm-up of A failed"
"${wrk[@]}" -d"${WARMUP}s" "http://127.0.0.1:$port_b/$ENDPOINT" "${args[@]}" >/dev/null || die "the warm-up of B failed"
: >"$out/results.txt"
for ((round = 1; round <= ROUNDS; round++)); do
    if ((round % 2 == 1)); then
        run A "$pid_a" "$port_a" "$round"
        run B "$pid_b" "$port_b" "$round"
    else
        run B "$pid_b" "$port_b" "$round"
        run A "$pid_a" "$port_a" "$round"
    fi
done

# The CPU time per request is the server's CPU time over the run (the kernel counts it in ticks of 1/CLK_TCK s,
# so a 3-second run reads it to about ±0.3 %) over the requests wrk counted.
python3 - "$out/results.txt" "$a" "$b" "$ENDPOINT" "$CONNECTIONS" "$DEPTH" "$DURATION" <<'EOF'
import random
import statistics
import sys

path, name_a, name_b, endpoint, connections, depth, duration = sys.argv[1:]
rounds = {}
for line in open(path):
    number, label, rps, user, kernel = line.split()
    rounds.setdefault(int(number), {})[label] = (float(rps), float(user), float(kernel))
rounds = [rounds[number] for number in sorted(rounds) if len(rounds[number]) == 2]
median = statistics.median

def interval(ratios):
    """A 95 % bootstrap interval of the median of `ratios` (fixed seed: the same results give the same interval)."""
    rng = random.Random(1)
    medians = sorted(median(rng.choices(ratios, k=len(ratios))) for _ in range(4000))
    return medians[100], medians[3899]

def summary(what, unit, value, digits):
    """One row: the medians of A and B of `value` (of one server's result), and of B / A by round."""
    ratios = [value(r["B"]) / value(r["A"]) for r in rounds]
    low, high = interval(ratios)
    a, b = median(value(r["A"]) for r in rounds), median(value(r["B"]) for r in rounds)
    print(f"| {what} | {a:.{digits}f}{unit} | {b:.{digits}f}{unit} | {median(ratios):.3f} | {low:.3f} to {high:.3f} |")

mode = f"{connections} connections" + (f", pipeline {depth}" if depth != "1" else "")
print(f"A/B: A = {name_a}, B = {name_b}; /{endpoint}, {mode}; {len(rounds)} rounds of {duration} s each")
print()
print("| round | A req/s | B req/s | B / A | A CPU µs/req (user + kernel) | B CPU µs/req (user + kernel) | B / A |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for number, result in enumerate(rounds, 1):
    (rps_a, user_a, kernel_a), (rps_b, user_b, kernel_b) = result["A"], result["B"]
    cpu_a, cpu_b = user_a + kernel_a, user_b + kernel_b
    print(
        f"| {number} | {rps_a:.0f} | {rps_b:.0f} | {rps_b / rps_a:.3f} | {cpu_a:.3f} ({user_a:.3f} + {kernel_a:.3f}) "
        f"| {cpu_b:.3f} ({user_b:.3f} + {kernel_b:.3f}) | {cpu_b / cpu_a:.3f} |"
    )
print()
print("| measure | A (median) | B (median) | B / A by round (median) | 95 % interval of that median |")
print("| --- | ---: | ---: | ---: | --- |")
summary("requests per second", "", lambda r: r[0], 0)
summary("server CPU per request", " µs", lambda r: r[1] + r[2], 3)
summary("of which user", " µs", lambda r: r[1], 3)
summary("of which kernel", " µs", lambda r: r[2], 3)
EOF
say "wrk's outputs, the results and the servers' logs: $out"
