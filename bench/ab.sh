#!/usr/bin/env bash
# Throughput of two or more servers on one load-comparison test, made to see through this VM's run-to-run noise:
# all of them run side by side on SERVER_CPU for the whole comparison, and ROUNDS short wrk runs go to each in
# turn, the order rotated and reversed from round to round (A B, B A, B A, A B; A B C, C B A, B C A, A C B, ...),
# so that a slow stretch of the machine falls on all of them. Prints each round's requests per second, the server's CPU time per
# request (user + kernel, from /proc) and wrk's share of its CPU, then the medians, the median of the per-round
# ratios to A and a 95 % interval of that median (bootstrap over the rounds). See bench/README.md, "A/B runs".
#
#   bench/ab.sh hyper rotor-cio                              # pipelined /json, 256 connections, depth 16
#   ENDPOINT=plaintext DEPTH=1 CONNECTIONS=64 bench/ab.sh actix rotor-cio
#   A_BINARY=/tmp/rotor-cio-before bench/ab.sh rotor-cio rotor-cio   # two builds of one server
#   ENDPOINT=plaintext DEPTH=1 CONNECTIONS=64 bench/ab.sh actix rotor-cio hyper h1-bare axum   # five, against A
#
# Servers: hyper, axum, actix, rotor (Rotor on rotor-hyper), rotor-cio (Rotor on rotor-cio), rotor-h1, h1-bare.
# Settings: ENDPOINT=json (or plaintext), CONNECTIONS=256, DEPTH=16 (1: unpipelined), ROUNDS=15, DURATION=3
# (seconds per run), WARMUP=2 (per server, once), SERVER_CPU=0, CLIENT_CPU=1, PEERS_TARGET_DIR=bench/peers/target,
# SKIP_BUILD=1 (use what is built there), A_BINARY and B_BINARY (binaries to run as the first and the second
# server instead of the ones built), AB_OUT (where wrk's outputs and the logs go; default
# $PEERS_TARGET_DIR/ab/<UTC time>).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
peers=$bench/peers

names=("$@")
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

usage="usage: bench/ab.sh <server A> <server B> [<server C> ...]: each one of hyper, axum, actix, rotor, rotor-cio,"
usage+=" rotor-h1, h1-bare"
((${#names[@]} >= 2)) || die "$usage"
((${#names[@]} <= 26)) || die "at most 26 servers (A to Z)"
for name in "${names[@]}"; do [[ -n ${binary[$name]:-} ]] || die "$name: unknown server; $usage"; done
# The label of the i-th server (A, B, C, ...) and the binary it runs.
letters=ABCDEFGHIJKLMNOPQRSTUVWXYZ
labels=()
programs=()
for i in "${!names[@]}"; do
    labels+=("${letters:i:1}")
    programs+=("$PEERS_TARGET_DIR/release/${binary[${names[$i]}]}")
done
if [[ -n ${A_BINARY:-} ]]; then programs[0]=$A_BINARY; fi
if [[ -n ${B_BINARY:-} ]]; then programs[1]=$B_BINARY; fi
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
    for i in "${!names[@]}"; do
        if { ((i == 0)) && [[ -n ${A_BINARY:-} ]]; } || { ((i == 1)) && [[ -n ${B_BINARY:-} ]]; }; then continue; fi
        [[ " ${packages[*]} " == *" ${package[${names[$i]}]} "* ]] || packages+=(-p "${package[${names[$i]}]}")
    done
    if ((${#packages[@]} > 0)); then
        say "building ${packages[*]} (release: fat LTO, one codegen unit) into $PEERS_TARGET_DIR"
        cargo build --release --locked --manifest-path "$peers/Cargo.toml" --target-dir "$PEERS_TARGET_DIR" \
            "${packages[@]}"
    fi
fi
for program in "${programs[@]}"; do [[ -x $program ]] || die "$program is not built"; done
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
server_pids=()
server_ports=()
for i in "${!names[@]}"; do
    start "${labels[$i]}" "${programs[$i]}"
    server_pids+=("$pid")
    server_ports+=("$port")
done

wrk_for "$ENDPOINT" "$CONNECTIONS" "$DEPTH"
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }

# run <label> <pid> <port> <round>: one measured wrk run; appends "round label rps user_us kernel_us wrk_pct" (the
# server's CPU time per request, and wrk's CPU time over the time wrk ran) to the results.
run() {
    local file=$out/wrk-$1-$4.txt user0 kernel0 user1 kernel1 rps wrk_ticks started ended
    read -r user0 kernel0 < <(cpu_ticks "$2")
    # The subshell's one child is wrk: its reaped children's CPU time (cutime + cstime) is wrk's. Its share is
    # over the subshell's wall time (EPOCHREALTIME, bash 5; the decimal separator is the locale's).
    started=${EPOCHREALTIME/,/.}
    wrk_ticks=$(
        "${wrk[@]}" -d"${DURATION}s" "http://127.0.0.1:$3/$ENDPOINT" "${args[@]}" >"$file" || exit 1
        awk '{ print $16 + $17 }' "/proc/$BASHPID/stat"
    ) || die "wrk failed: $(cat "$file")"
    ended=${EPOCHREALTIME/,/.}
    read -r user1 kernel1 < <(cpu_ticks "$2")
    kill -0 "$2" 2>/dev/null || die "server $1 exited: $(cat "$out/server-$1.log")"
    rps=$(grep -oE 'rps=[0-9.]+' "$file" | cut -d= -f2) || true
    [[ -n $rps ]] || die "no result from wrk: $(cat "$file")"
    grep -qE 'connect=0 read=0 write=0 status=0 timeout=0' "$file" ||
        die "wrk counted errors against $1: $(grep -oE 'connect=.*' "$file")"
    awk -v round="$4" -v label="$1" -v rps="$rps" -v user=$((user1 - user0)) -v kernel=$((kernel1 - kernel0)) \
        -v hz="$(getconf CLK_TCK)" -v seconds="$DURATION" -v wrk="$wrk_ticks" \
        -v wall="$started $ended" 'BEGIN {
            split(wall, t, " ")
            n = rps * seconds
            printf "%d %s %.0f %.4f %.4f %.1f\n", round, label, rps, user / hz * 1e6 / n, kernel / hz * 1e6 / n,
                100 * wrk / hz / (t[2] - t[1])
        }' >>"$out/results.txt"
}

servers_said=()
for i in "${!names[@]}"; do servers_said+=("${labels[$i]}: ${names[$i]} (${programs[$i]})"); done
said=$(printf '%s, ' "${servers_said[@]}")
say "${said%, }; on CPU $SERVER_CPU; wrk on CPU $CLIENT_CPU:" \
    "/$ENDPOINT, $CONNECTIONS connections, depth $DEPTH, $ROUNDS rounds of ${DURATION} s each"
for i in "${!names[@]}"; do
    "${wrk[@]}" -d"${WARMUP}s" "http://127.0.0.1:${server_ports[$i]}/$ENDPOINT" "${args[@]}" >/dev/null ||
        die "the warm-up of ${labels[$i]} failed"
done
: >"$out/results.txt"
# Round r starts at server (r - 1) / 2 (rounded down) of the list and runs it forwards, every other round
# backwards: with two servers A B, B A, B A, A B, ...; with more, each server runs first as often as the others
# over 2n rounds and follows a different neighbour forwards and backwards.
count=${#names[@]}
for ((round = 1; round <= ROUNDS; round++)); do
    for ((k = 0; k < count; k++)); do
        if ((round % 2 == 1)); then step=$k; else step=$((count - 1 - k)); fi
        i=$((((round - 1) / 2 + step) % count))
        run "${labels[$i]}" "${server_pids[$i]}" "${server_ports[$i]}" "$round"
    done
done

# The CPU time per request is the server's CPU time over the run (the kernel counts it in ticks of 1/CLK_TCK s,
# so a 3-second run reads it to about ±0.3 %) over the requests wrk counted.
python3 - "$out/results.txt" "$ENDPOINT" "$CONNECTIONS" "$DEPTH" "$DURATION" "${names[@]}" <<'EOF'
import random
import statistics
import sys

path, endpoint, connections, depth, duration, *names = sys.argv[1:]
labels = [chr(ord("A") + i) for i in range(len(names))]
rounds = {}
for line in open(path):
    number, label, rps, user, kernel, wrk = line.split()
    rounds.setdefault(int(number), {})[label] = (float(rps), float(user), float(kernel), float(wrk))
rounds = [rounds[number] for number in sorted(rounds) if len(rounds[number]) == len(labels)]
median = statistics.median

def interval(ratios):
    """A 95 % bootstrap interval of the median of `ratios` (fixed seed: the same results give the same interval)."""
    rng = random.Random(1)
    medians = sorted(median(rng.choices(ratios, k=len(ratios))) for _ in range(4000))
    return medians[100], medians[3899]

mode = f"{connections} connections" + (f", pipeline {depth}" if depth != "1" else "")
said = ", ".join(f"{label} = {name}" for label, name in zip(labels, names))
print(f"Side by side: {said}; /{endpoint}, {mode}; {len(rounds)} rounds of {duration} s each")
print()
others = labels[1:]
head = ["round"] + [f"{label} req/s" for label in labels] + [f"{label} / A" for label in others]
head += [f"{label} CPU µs/req (user + kernel)" for label in labels] + [f"wrk CPU % ({', '.join(labels)})"]
print("| " + " | ".join(head) + " |")
print("|" + " ---: |" * len(head))
for number, result in enumerate(rounds, 1):
    cells = [str(number)] + [f"{result[label][0]:.0f}" for label in labels]
    cells += [f"{result[label][0] / result['A'][0]:.3f}" for label in others]
    cells += [f"{r[1] + r[2]:.3f} ({r[1]:.3f} + {r[2]:.3f})" for r in (result[label] for label in labels)]
    cells += [" / ".join(f"{result[label][3]:.0f}" for label in labels)]
    print("| " + " | ".join(cells) + " |")
print()
print("| server | measure | median | by round, to A (median) | 95 % interval of that median |")
print("| --- | --- | ---: | ---: | --- |")
measures = [
    ("requests per second", "", lambda r: r[0], 0),
    ("server CPU per request", " µs", lambda r: r[1] + r[2], 3),
    ("of which user", " µs", lambda r: r[1], 3),
    ("of which kernel", " µs", lambda r: r[2], 3),
    ("wrk's CPU", " %", lambda r: r[3], 0),
]
for label, name in zip(labels, names):
    for what, unit, value, digits in measures:
        cells = [f"{label}: {name}", what, f"{median(value(r[label]) for r in rounds):.{digits}f}{unit}"]
        if label == "A":
            cells += ["", ""]
        else:
            ratios = [value(r[label]) / value(r["A"]) for r in rounds]
            low, high = interval(ratios)
            cells += [f"{median(ratios):.3f}", f"{low:.3f} to {high:.3f}"]
        print("| " + " | ".join(cells) + " |")
EOF
say "wrk's outputs, the results and the servers' logs: $out"
