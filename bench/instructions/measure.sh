#!/usr/bin/env bash
# Instructions per request: each server under callgrind, sent a fixed number of pipelined requests by
# client.py, twice (SMALL and LARGE requests); the difference divided by LARGE - SMALL is what one request costs,
# start-up and shutdown cancelled out. A count of instructions does not depend on the machine's load, so this runs
# while other work does, unlike bench/load.sh. Beside the instructions it reports, per request: the locked
# read-modify-writes (atomic reference counts, lock and unlock) the server's own code executed (locks.py); the
# hot code a request runs through, in KiB of 64-byte lines (footprint.py); and callgrind's simulated L1
# instruction-cache misses and branch mispredictions, with a 32 KiB 8-way L1i and D1 on every machine so that
# figures compare across machines. See bench/README.md, "Instructions per request".
#
#   bench/instructions/measure.sh                       # rotor and hyper, /plaintext and /json
#   SERVERS=rotor PATHS=/plaintext bench/instructions/measure.sh
#
# Settings: SERVERS="rotor hyper" (also axum, actix, rotor-cio (Rotor on rotor-cio), and rotor-h1 and h1-bare,
# the prototype engine with and without Rotor; ROTOR_H1_MODULE reaches the server), PATHS="/plaintext /json", SMALL=2048, LARGE=10240,
# PEERS_TARGET_DIR=bench/peers/target-instructions (release profile with line tables, so that
# `callgrind_annotate` can name functions; the callgrind files stay in $PEERS_TARGET_DIR/instructions), SKIP_BUILD=1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
peers=$root/bench/peers
SERVERS=${SERVERS:-rotor hyper}
PATHS=${PATHS:-/plaintext /json}
SMALL=${SMALL:-2048}
LARGE=${LARGE:-10240}
PEERS_TARGET_DIR=${PEERS_TARGET_DIR:-$peers/target-instructions}
SKIP_BUILD=${SKIP_BUILD:-0}
out=$PEERS_TARGET_DIR/instructions
mkdir -p "$out"

# shellcheck source=bench/servers.sh
source "$root/bench/servers.sh"

if ! command -v valgrind >/dev/null; then
    say "installing valgrind with apt-get"
    if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq valgrind >/dev/null
fi
for tool in valgrind python3 taskset cargo objdump nm; do command -v "$tool" >/dev/null || die "$tool is missing"; done

read -r -a servers <<<"$SERVERS"
packages=()
for server in "${servers[@]}"; do
    [[ -n ${package[$server]:-} ]] || die "unknown server '$server' in SERVERS (hyper, axum, actix, rotor, rotor-cio, rotor-h1, h1-bare)"
    [[ " ${packages[*]} " == *" ${package[$server]} "* ]] || packages+=(-p "${package[$server]}")
done
if [[ $SKIP_BUILD != 1 ]]; then
    say "building ${servers[*]} (release, with line tables) into $PEERS_TARGET_DIR"
    CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --locked \
        --manifest-path "$peers/Cargo.toml" --target-dir "$PEERS_TARGET_DIR" "${packages[@]}"
fi

# run <server> <path> <requests>: prints the events the server's whole life collected: instructions, simulated L1i
# misses, conditional and indirect branch mispredictions.
run() {
    local server=$1 path=$2 requests=$3 name log port waited=0 pid
    name=$server-$(basename "$path")-$requests
    log=$out/$name.log
    PORT=0 RUST_LOG=info taskset -c 0 valgrind --tool=callgrind --dump-instr=yes --cache-sim=yes --branch-sim=yes \
        --I1=32768,8,64 --D1=32768,8,64 --LL=8388608,16,64 --callgrind-out-file="$out/$name.callgrind" \
        "$PEERS_TARGET_DIR/release/${binary[$server]}" >"$log" 2>&1 &
    pid=$!
    until port=$(grep -m1 -oE '(127\.0\.0\.1|localhost):[0-9]+' "$log" | cut -d: -f2) && [[ -n $port ]]; do
        kill -0 "$pid" 2>/dev/null || die "$server exited before it was ready: $(cat "$log")"
        ((waited++ < 1200)) || die "$server did not say where it listens within 60 s"
        sleep 0.05
    done
    taskset -c 1 python3 "$root/bench/instructions/client.py" "$port" "$path" "$requests" ||
        { kill "$pid"; die "the client failed against $server"; }
    kill -TERM "$pid"
    wait "$pid" || true
    # The columns by name from the `Events` line; callgrind leaves trailing zero counts off `Collected`.
    local header collected names events value ir=0 i1mr=0 bcm=0 bim=0 i
    header=$(grep -m1 -oE 'Events +: [A-Za-z0-9 ]+' "$log") || die "no event names in $log"
    collected=$(grep -m1 -oE 'Collected : [0-9 ]+' "$log") || die "no total in $log"
    read -r -a names <<<"${header#*: }"
    read -r -a events <<<"${collected#Collected : }"
    for i in "${!names[@]}"; do
        value=${events[i]:-0}
        case ${names[i]} in
            Ir) ir=$value ;; I1mr) i1mr=$value ;; Bcm) bcm=$value ;; Bim) bim=$value ;;
        esac
    done
    ((ir > 0)) || die "no instruction count in $log: $collected"
    echo "$ir $i1mr $bcm $bim"
}

# rotor-h1 runs the module ROTOR_H1_MODULE names, if any: the table says which.
server_name() { if [[ $1 == rotor-h1 && -n ${ROTOR_H1_MODULE:-} ]]; then echo "$1 ($ROTOR_H1_MODULE)"; else echo "$1"; fi; }
printf '| server | path | instructions per request | locked read-modify-writes per request | hot code per request (KiB) | L1i misses per request (simulated) | branch mispredictions per request (simulated) |\n'
printf '|---|---|---:|---:|---:|---:|---:|\n'
per_request() { LC_ALL=C awk -v a="$1" -v b="$2" -v n=$((LARGE - SMALL)) 'BEGIN { printf "%.1f", (b - a) / n }'; }
for path in $PATHS; do
    for server in "${servers[@]}"; do
        small=$(run "$server" "$path" "$SMALL")
        large=$(run "$server" "$path" "$LARGE")
        read -r small_ir small_i1 small_bc small_bi <<<"$small"
        read -r large_ir large_i1 large_bc large_bi <<<"$large"
        name=$server-$(basename "$path")
        locks=$(python3 "$root/bench/instructions/locks.py" "$PEERS_TARGET_DIR/release/${binary[$server]}" \
            "$out/$name-$SMALL.callgrind" "$out/$name-$LARGE.callgrind" $((LARGE - SMALL)))
        footprint=$(python3 "$root/bench/instructions/footprint.py" \
            "$out/$name-$SMALL.callgrind" "$out/$name-$LARGE.callgrind" $((LARGE - SMALL)))
        printf '| %s | %s | %d | %s | %s | %s | %s |\n' "$(server_name "$server")" "$path" $(((large_ir - small_ir) / (LARGE - SMALL))) \
            "$locks" "$footprint" "$(per_request "$small_i1" "$large_i1")" \
            "$(per_request $((small_bc + small_bi)) $((large_bc + large_bi)))"
    done
done
say "callgrind files: $out (callgrind_annotate <file> for a breakdown; the LARGE run minus the SMALL one is the requests' share)"
