#!/usr/bin/env bash
# The load comparison: Rotor against raw hyper, axum and actix-web on TechEmpower's plaintext and JSON tests,
# then the resident memory each server holds per idle keep-alive connection. See bench/README.md, "Load
# comparison".
#
#   bench/load.sh                      # everything, default settings (about 12 minutes plus the build)
#   ROUNDS=1 DURATION=5 bench/load.sh  # a quick look
#
# Settings (environment variables):
#   ROUNDS=3            rounds; each round starts every server, runs each test on all of them one right after
#                       the other (the order rotated each round), and the tables give the median (and the
#                       targets table the ratios paired by round)
#   DURATION=10         seconds of each measured wrk run
#   WARMUP=2            seconds of unmeasured load on each endpoint after a server starts
#   CONNECTIONS=64      connections of the unpipelined runs
#   PIPELINE_CONNECTIONS=256, PIPELINE_DEPTH=16   connections and requests per write of the pipelined runs
#   SERVERS="hyper axum actix rotor rotor-cio"    which servers, each once (rotated, and reversed every other
#                                                 round: see bench/README.md, "Method") (rotor: Rotor on
#                                                 rotor-hyper, rotor-cio: the same server on rotor-cio); also
#                                                 rotor-h1 and h1-bare, the prototype engine with and without
#                                                 Rotor (bench/README.md)
#   IDLE_CONNECTIONS=10000                        connections of the idle-memory phase (0 skips the phase)
#   SERVER_CPU=0, CLIENT_CPU=1                    the CPUs the server and the load generator are pinned to
#   PEERS_TARGET_DIR=bench/peers/target           where the servers are built
#   LOAD_OUT=<PEERS_TARGET_DIR>/load-results/<UTC time>   where the raw results, the logs and the tables go
#   SKIP_BUILD=1        use the binaries already built
#
# Exits with status 1 if a server answered an error, dropped connections, crashed, or served fewer requests
# than a working server would; the tables are printed first, with the failures after them.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
peers=$bench/peers

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
DURATION=${DURATION%s}
WARMUP=${WARMUP:-2}
WARMUP=${WARMUP%s}
CONNECTIONS=${CONNECTIONS:-64}
PIPELINE_CONNECTIONS=${PIPELINE_CONNECTIONS:-256}
PIPELINE_DEPTH=${PIPELINE_DEPTH:-16}
SERVERS=${SERVERS:-hyper axum actix rotor rotor-cio}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PEERS_TARGET_DIR=${PEERS_TARGET_DIR:-$peers/target}
LOAD_OUT=${LOAD_OUT:-$PEERS_TARGET_DIR/load-results/$(date -u +%Y%m%dT%H%M%SZ)}
SKIP_BUILD=${SKIP_BUILD:-0}
# Below this many requests per second a run counts as failed: even a loaded 2-core machine serves thousands.
MIN_RPS=${MIN_RPS:-1000}

# shellcheck source=bench/servers.sh
source "$bench/servers.sh"

failures=()
fail_later() {
    say "FAILURE: $*"
    failures+=("$*")
}

for number in ROUNDS DURATION WARMUP CONNECTIONS PIPELINE_CONNECTIONS PIPELINE_DEPTH IDLE_CONNECTIONS; do
    [[ ${!number} =~ ^[0-9]+$ ]] || die "$number=${!number} is not a whole number"
done
((ROUNDS >= 1 && DURATION >= 1)) || die "ROUNDS and DURATION must be at least 1"

# --- tools -------------------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    say "installing wrk with apt-get"
    if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq wrk >/dev/null
fi
for tool in wrk taskset cargo awk sort; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done
cpus=$(nproc --all)
((SERVER_CPU < cpus && CLIENT_CPU < cpus && SERVER_CPU != CLIENT_CPU)) ||
    die "the server and the client need a CPU each (SERVER_CPU=$SERVER_CPU, CLIENT_CPU=$CLIENT_CPU, $cpus CPUs)"

# --- build -------------------------------------------------------------------------------------------------
if [[ $SKIP_BUILD != 1 ]]; then
    say "building the servers (release: fat LTO, one codegen unit) into $PEERS_TARGET_DIR"
    cargo build --release --locked --manifest-path "$peers/Cargo.toml" --target-dir "$PEERS_TARGET_DIR"
fi
bin=$PEERS_TARGET_DIR/release
declare -A label=([hyper]="raw hyper" [axum]=axum [actix]=actix-web [rotor]="Rotor on rotor-hyper"
    [rotor-h1]="Rotor on the h1 prototype${ROTOR_H1_MODULE:+ ($ROTOR_H1_MODULE)}" [h1-bare]="h1 prototype, no framework" [rotor-cio]="Rotor on rotor-cio")
read -r -a servers <<<"$SERVERS"
declare -A listed=()
for server in "${servers[@]}"; do
    [[ -n ${binary[$server]:-} ]] || die "unknown server '$server' in SERVERS (hyper, axum, actix, rotor, rotor-cio, rotor-h1, h1-bare)"
    # A round runs its servers together, one process per name.
    [[ -z ${listed[$server]:-} ]] || die "'$server' is named twice in SERVERS: name each server once"
    listed[$server]=1
    [[ -x $bin/${binary[$server]} ]] || die "$bin/${binary[$server]} is not built"
done

# Each connection is a file descriptor in the server and in the client.
need_files=$((IDLE_CONNECTIONS + PIPELINE_CONNECTIONS + 1024))
if (($(ulimit -n) < need_files)); then
    ulimit -Hn "$need_files" 2>/dev/null || true
    ulimit -n "$need_files" 2>/dev/null || die "cannot raise the open-files limit to $need_files (ulimit -n)"
fi

mkdir -p "$LOAD_OUT/logs"
results=$LOAD_OUT/results.csv
idle_results=$LOAD_OUT/idle.csv
summary=$LOAD_OUT/summary.md
clock_ticks=$(getconf CLK_TCK)

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

# --- servers -----------------------------------------------------------------------------------------------
# A round keeps all its servers running at once (idle but for the one under load), so that each test runs the
# servers one right after another; the idle-memory phase runs one at a time.
declare -A pid_of=() port_of=()
server_pid=
server_port=
idle_pid=

cleanup() {
    if [[ -n $idle_pid ]]; then kill "$idle_pid" 2>/dev/null || true; fi
    local pid waited=0
    # SIGTERM to every server still running, then SIGKILL to any not gone after 5 s.
    for pid in "${pid_of[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pid_of[@]}"; do
        while kill -0 "$pid" 2>/dev/null && ((waited++ < 100)); do sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server <server> <log>: starts it pinned to SERVER_CPU and waits for the line that gives its port (then in
# pid_of and port_of, and in server_pid and server_port).
start_server() {
    local server=$1 log=$2 waited=0
    PORT=0 RUST_LOG=info taskset -c "$SERVER_CPU" "$bin/${binary[$server]}" >"$log" 2>&1 &
    server_pid=$!
    pid_of[$server]=$server_pid
    server_port=
    # "listening on 127.0.0.1:<port>" from the peers, "Responding at http://127.0.0.1:<port>" from Rotor.
    until server_port=$(grep -m1 -oE '(127\.0\.0\.1|localhost):[0-9]+' "$log" | cut -d: -f2) && [[ -n $server_port ]]; do
        kill -0 "$server_pid" 2>/dev/null || die "$server exited before it was ready: $(cat "$log")"
        ((waited++ < 600)) || die "$server did not say where it listens within 30 s: $(cat "$log")"
        sleep 0.05
    done
    port_of[$server]=$server_port
}

# use_server <server>: makes a started server the one run_wrk and cpu_ticks address.
use_server() {
    server_pid=${pid_of[$1]}
    server_port=${port_of[$1]}
}

# stop_server <server>: SIGTERM, then SIGKILL after 5 s; a server that died before is a failure.
stop_server() {
    local server=$1 waited=0 pid=${pid_of[$1]}
    if ! kill -0 "$pid" 2>/dev/null; then
        fail_later "$server exited during the run (see its log)"
    else
        kill -TERM "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null && ((waited++ < 100)); do sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    unset "pid_of[$server]" "port_of[$server]"
    server_pid=
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run_wrk <endpoint> <connections> <depth> <seconds>: prints wrk's RESULT line followed by
# "wrk_cpu_seconds=<user + system>".
run_wrk() {
    local endpoint=$1 seconds=$4 wrk args
    wrk_for "$endpoint" "$2" "$3"
    # The subshell's one child is wrk: its reaped children's CPU time (cutime + cstime) is wrk's.
    (
        "${wrk[@]}" -d"${seconds}s" "http://127.0.0.1:$server_port/$endpoint" "${args[@]}"
        awk -v hz="$clock_ticks" '{ printf "wrk_cpu_seconds=%.3f\n", ($16 + $17) / hz }' "/proc/$BASHPID/stat"
    )
}

field() { # field <name> <text>: the value of name=value in text
    grep -oE "(^| )$1=[^ ]+" <<<"$2" | head -1 | cut -d= -f2
}

# --- machine -----------------------------------------------------------------------------------------------
model=$(lscpu 2>/dev/null | awk -F: '/^Model name/ { gsub(/^ +/, "", $2); print $2; exit }')
rustc_version=$(rustc --version 2>/dev/null || echo unknown)
wrk_version=$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2 || true)
started_at=$(date -u '+%Y-%m-%d %H:%M UTC')
load_start=$(load_average)
say "machine: $cpus CPUs ($model), load average $load_start, $rustc_version, $wrk_version"
say "results go to $LOAD_OUT"

# --- throughput and latency --------------------------------------------------------------------------------
tests=("plaintext $CONNECTIONS 1" "json $CONNECTIONS 1" "plaintext $PIPELINE_CONNECTIONS $PIPELINE_DEPTH"
    "json $PIPELINE_CONNECTIONS $PIPELINE_DEPTH")
echo "round,server,endpoint,connections,depth,requests,seconds,rps,p50_us,p90_us,p99_us,max_us,errors_connect,errors_read,errors_write,errors_status,errors_timeout,server_cpu_seconds,wrk_cpu_seconds,server_cpu_pct,wrk_cpu_pct,requests_per_server_cpu_second,load_1min" >"$results"
runs=$((ROUNDS * ${#servers[@]} * ${#tests[@]}))
run=0
for ((round = 1; round <= ROUNDS; round++)); do
    # Each round starts one server later in the list, and every other round runs the list backwards: no server
    # always runs first or last in a test, and each pair of servers runs in both orders.
    order=()
    for ((i = 0; i < ${#servers[@]}; i++)); do
        order+=("${servers[$(((i + round - 1) % ${#servers[@]}))]}")
    done
    if ((round % 2 == 0)); then
        reversed=()
        for ((i = ${#order[@]} - 1; i >= 0; i--)); do reversed+=("${order[$i]}"); done
        order=("${reversed[@]}")
    fi
    for server in "${order[@]}"; do
        start_server "$server" "$LOAD_OUT/logs/$server-round$round.log"
        say "round $round/$ROUNDS: $server (pid $server_pid) on 127.0.0.1:$server_port"
        if ((WARMUP > 0)); then
            for endpoint in plaintext json; do
                run_wrk "$endpoint" "$CONNECTIONS" 1 "$WARMUP" >/dev/null ||
                    fail_later "$server: the warm-up on /$endpoint failed"
            done
        fi
    done
    for test in "${tests[@]}"; do
        read -r endpoint connections depth <<<"$test"
        for server in "${order[@]}"; do
            use_server "$server"
            run=$((run + 1))
            before=$(cpu_ticks "$server_pid" 2>/dev/null || echo 0)
            if ! output=$(run_wrk "$endpoint" "$connections" "$depth" "$DURATION"); then
                fail_later "$server round $round /$endpoint c=$connections depth=$depth: wrk failed: $output"
                continue
            fi
            after=$(cpu_ticks "$server_pid" 2>/dev/null || echo "$before")
            line=$(grep '^RESULT ' <<<"$output" || true)
            if [[ -z $line ]]; then
                fail_later "$server round $round /$endpoint c=$connections depth=$depth: no result from wrk: $output"
                continue
            fi
            declare -A r=()
            for key in requests seconds rps p50_us p90_us p99_us max_us connect read write status timeout; do
                r[$key]=$(field "$key" "$line")
            done
            wrk_cpu=$(field wrk_cpu_seconds "$output")
            server_cpu=$(awk -v t=$((after - before)) -v hz="$clock_ticks" 'BEGIN { printf "%.2f", t / hz }')
            server_cpu_pct=$(awk -v c="$server_cpu" -v s="${r[seconds]}" 'BEGIN { printf "%.0f", 100 * c / s }')
            wrk_cpu_pct=$(awk -v c="$wrk_cpu" -v s="${r[seconds]}" 'BEGIN { printf "%.0f", 100 * c / s }')
            per_cpu=$(awk -v n="${r[requests]}" -v c="$server_cpu" 'BEGIN { if (c > 0) printf "%.0f", n / c; else print "" }')
            load_now=$(cut -d' ' -f1 /proc/loadavg)
            echo "$round,$server,$endpoint,$connections,$depth,${r[requests]},${r[seconds]},${r[rps]},${r[p50_us]},${r[p90_us]},${r[p99_us]},${r[max_us]},${r[connect]},${r[read]},${r[write]},${r[status]},${r[timeout]},$server_cpu,$wrk_cpu,$server_cpu_pct,$wrk_cpu_pct,$per_cpu,$load_now" >>"$results"
            say "  [$run/$runs] $server /$endpoint c=$connections depth=$depth: ${r[rps]} req/s, p99 ${r[p99_us]} us, server CPU $server_cpu_pct %, wrk CPU $wrk_cpu_pct %, load $load_now"
            errors=$((r[connect] + r[read] + r[write] + r[status] + r[timeout]))
            if ((errors > 0)); then
                fail_later "$server round $round /$endpoint c=$connections depth=$depth: errors: connect ${r[connect]}, read ${r[read]}, write ${r[write]}, non-2xx/3xx ${r[status]}, timeout ${r[timeout]}"
            fi
            if awk -v rps="${r[rps]}" -v min="$MIN_RPS" 'BEGIN { exit !(rps < min) }'; then
                fail_later "$server round $round /$endpoint c=$connections depth=$depth: only ${r[rps]} req/s"
            fi
            unset r
        done
    done
    for server in "${order[@]}"; do
        stop_server "$server"
        log=$LOAD_OUT/logs/$server-round$round.log
        if grep -qiE 'panic|error|warn' "$log"; then
            fail_later "$server round $round logged warnings or errors: $(grep -iE 'panic|error|warn' "$log" | head -3)"
        fi
    done
done

# --- memory per idle connection ----------------------------------------------------------------------------
echo "server,connections,still_open,server_sockets_added,open_seconds,rss_before_kib,rss_after_kib,pss_before_kib,pss_after_kib,rss_bytes_per_connection,pss_bytes_per_connection,load_1min" >"$idle_results"
if ((IDLE_CONNECTIONS > 0)); then
    for server in "${servers[@]}"; do
        log=$LOAD_OUT/logs/$server-idle.log
        start_server "$server" "$log"
        say "idle: $server (pid $server_pid), $IDLE_CONNECTIONS keep-alive connections"
        taskset -c "$CLIENT_CPU" "$bin/idle-client" "127.0.0.1:$server_port" "$server_pid" "$IDLE_CONNECTIONS" \
            >"$LOAD_OUT/logs/$server-idle-client.log" 2>&1 &
        idle_pid=$!
        if wait "$idle_pid"; then status=0; else status=$?; fi
        idle_pid=
        line=$(grep '^connections=' "$LOAD_OUT/logs/$server-idle-client.log" || true)
        if ((status != 0)) || [[ -z $line ]]; then
            fail_later "$server idle: $(cat "$LOAD_OUT/logs/$server-idle-client.log")"
        fi
        if [[ -n $line ]]; then
            values=$server
            for key in connections still_open server_sockets_added open_seconds rss_before_kib rss_after_kib \
                pss_before_kib pss_after_kib rss_bytes_per_connection pss_bytes_per_connection; do
                values+=",$(field "$key" "$line")"
            done
            echo "$values,$(cut -d' ' -f1 /proc/loadavg)" >>"$idle_results"
            say "  $line"
        fi
        stop_server "$server"
    done
fi
load_end=$(load_average)

# --- tables ------------------------------------------------------------------------------------------------
# median <server> <endpoint> <depth> <column>: the median of that column over the rounds.
median() {
    awk -F, -v s="$1" -v e="$2" -v d="$3" -v c="$4" \
        'NR > 1 && $2 == s && $3 == e && $5 == d { print $c }' "$results" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
range() { # range <server> <endpoint> <depth> <column>: "min–max" over the rounds
    awk -F, -v s="$1" -v e="$2" -v d="$3" -v c="$4" \
        'NR > 1 && $2 == s && $3 == e && $5 == d { print $c }' "$results" | sort -g |
        awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%.0f–%.0f", lo / 1000, hi / 1000 }'
}
ratio() { # ratio <a> <b> [decimals]: a / b with two decimals (or as many as asked), or – when either is missing
    awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "–"; else printf "%.*f", d, a / b }'
}
paired() { # paired <server> <peer> <endpoint> <depth> <column>: the median over the rounds of server / peer within
    # each round (the two ran one right after the other), then the lowest and highest: "0.97 (0.91–1.04)"
    awk -F, -v s="$1" -v p="$2" -v e="$3" -v d="$4" -v c="$5" '
        NR > 1 && $3 == e && $5 == d && $2 == s { a[$1] = $c }
        NR > 1 && $3 == e && $5 == d && $2 == p { b[$1] = $c }
        END { for (r in a) if ((r in b) && b[r] + 0 > 0) print a[r] / b[r] }' "$results" | sort -g |
        awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "–"; exit }
            m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.2f (%.2f–%.2f)", m, v[1], v[NR] }'
}
mode_name() { if (($1 > 1)); then echo "$2 conn, pipeline $1"; else echo "$2 conn"; fi; }
column() { # the CSV column number of a name
    head -1 "$results" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1
}
rps_col=$(column rps)
p99_col=$(column p99_us)
scpu_col=$(column server_cpu_pct)
wcpu_col=$(column wrk_cpu_pct)
eff_col=$(column requests_per_server_cpu_second)
has() { [[ " ${servers[*]} " == *" $1 "* ]]; }

{
    echo "Load comparison, $started_at: \`$(basename "$0")\` with ROUNDS=$ROUNDS DURATION=${DURATION}s WARMUP=${WARMUP}s, servers on CPU $SERVER_CPU, \`wrk -t1\` on CPU $CLIENT_CPU."
    echo
    echo "Machine: $cpus CPUs, $model; $rustc_version; $wrk_version; load average $load_start at the start, $load_end at the end."
    echo
    echo "| server | endpoint | mode | req/s (median) | kreq/s (range) | p99 ms (median) | req/s / raw hyper | p99 / axum | server CPU % | wrk CPU % | req per server CPU-s | that / raw hyper |"
    echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for test in "${tests[@]}"; do
        read -r endpoint connections depth <<<"$test"
        hyper_rps=
        axum_p99=
        if has hyper; then hyper_rps=$(median hyper "$endpoint" "$depth" "$rps_col"); fi
        if has axum; then axum_p99=$(median axum "$endpoint" "$depth" "$p99_col"); fi
        hyper_eff=
        if has hyper; then hyper_eff=$(median hyper "$endpoint" "$depth" "$eff_col"); fi
        for server in "${servers[@]}"; do
            rps=$(median "$server" "$endpoint" "$depth" "$rps_col")
            p99=$(median "$server" "$endpoint" "$depth" "$p99_col")
            [[ -n $rps ]] || continue
            eff=$(median "$server" "$endpoint" "$depth" "$eff_col")
            printf '| %s | /%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${label[$server]}" "$endpoint" \
                "$(mode_name "$depth" "$connections")" "$(awk -v v="$rps" 'BEGIN { printf "%.0f", v }')" \
                "$(range "$server" "$endpoint" "$depth" "$rps_col")" \
                "$(awk -v v="$p99" 'BEGIN { printf "%.2f", v / 1000 }')" \
                "$(ratio "$rps" "$hyper_rps")" "$(ratio "$p99" "$axum_p99")" \
                "$(median "$server" "$endpoint" "$depth" "$scpu_col")" "$(median "$server" "$endpoint" "$depth" "$wcpu_col")" \
                "$(awk -v v="$eff" 'BEGIN { printf "%.0f", v }')" "$(ratio "$eff" "$hyper_eff")"
        done
    done
    rotors=()
    for server in rotor rotor-cio; do if has "$server"; then rotors+=("$server"); fi; done
    if ((${#rotors[@]} > 0)); then
        echo
        echo "Rotor against the targets (req/s ≥ 1.00× actix-web and ≥ 0.95× raw hyper, p99 ≤ axum's). The targets are"
        echo "Rotor's on rotor-cio, its cleartext HTTP/1.1 engine; Rotor on rotor-hyper (the engine for TLS and HTTP/2) is set"
        echo "against them for reference (bench/README.md, \"Which engine the targets are for\"):"
        echo
        echo "| server | endpoint | mode | Rotor / actix-web req/s | Rotor / raw hyper req/s | Rotor / axum p99 | verdict | per server CPU-s: Rotor / actix-web | Rotor / raw hyper | paired by round, req/s: Rotor / actix-web | Rotor / raw hyper |"
        echo "| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |"
        for rotor in "${rotors[@]}"; do
            for test in "${tests[@]}"; do
                read -r endpoint connections depth <<<"$test"
                rotor_rps=$(median "$rotor" "$endpoint" "$depth" "$rps_col")
                rotor_p99=$(median "$rotor" "$endpoint" "$depth" "$p99_col")
                actix=–
                hyper=–
                axum=–
                # The verdict compares the ratios unrounded (a 0.997 is below 1.00), the table shows two decimals.
                if has actix; then actix=$(ratio "$rotor_rps" "$(median actix "$endpoint" "$depth" "$rps_col")" 6); fi
                if has hyper; then hyper=$(ratio "$rotor_rps" "$(median hyper "$endpoint" "$depth" "$rps_col")" 6); fi
                if has axum; then axum=$(ratio "$rotor_p99" "$(median axum "$endpoint" "$depth" "$p99_col")" 6); fi
                rotor_eff=$(median "$rotor" "$endpoint" "$depth" "$eff_col")
                actix_eff=–
                hyper_eff=–
                if has actix; then actix_eff=$(ratio "$rotor_eff" "$(median actix "$endpoint" "$depth" "$eff_col")"); fi
                if has hyper; then hyper_eff=$(ratio "$rotor_eff" "$(median hyper "$endpoint" "$depth" "$eff_col")"); fi
                actix_paired=–
                hyper_paired=–
                if has actix; then actix_paired=$(paired "$rotor" actix "$endpoint" "$depth" "$rps_col"); fi
                if has hyper; then hyper_paired=$(paired "$rotor" hyper "$endpoint" "$depth" "$rps_col"); fi
                # A miss against a peer is marked wrk-bound when wrk used 95 % of its core or more (median)
                # against both Rotor and that peer: there both CPUs are full and the figures move with the
                # machine more than with the servers (bench/README.md, "The load generator's ceiling").
                wrk_rotor=$(median "$rotor" "$endpoint" "$depth" "$wcpu_col")
                wrk_actix=
                wrk_hyper=
                if has actix; then wrk_actix=$(median actix "$endpoint" "$depth" "$wcpu_col"); fi
                if has hyper; then wrk_hyper=$(median hyper "$endpoint" "$depth" "$wcpu_col"); fi
                verdict=$(awk -v a="$actix" -v h="$hyper" -v p="$axum" -v wr="$wrk_rotor" -v wa="$wrk_actix" \
                    -v wh="$wrk_hyper" 'BEGIN {
                    v = ""
                    bound = 0
                    limit = wr != "" && wr + 0 >= 95
                    if (a != "–" && a + 0 < 1.00) {
                        v = v sprintf("%s%.1f %% below actix-web", v == "" ? "" : "; ", (1 - a) * 100)
                        if (limit && wa != "" && wa + 0 >= 95) bound = 1
                    }
                    if (h != "–" && h + 0 < 0.95) {
                        v = v sprintf("%s%.1f %% below 0.95× hyper", v == "" ? "" : "; ", (0.95 - h) / 0.95 * 100)
                        if (limit && wh != "" && wh + 0 >= 95) bound = 1
                    }
                    if (p != "–" && p + 0 > 1.00) v = v sprintf("%sp99 %.1f %% over axum", v == "" ? "" : "; ", (p - 1) * 100)
                    if (bound) v = v " (wrk-bound: wrk at ≥ 95 % of its core against Rotor and the peer)"
                    print v == "" ? "met" : "**missed**: " v }')
                two() { if [[ $1 == – ]]; then echo –; else awk -v v="$1" 'BEGIN { printf "%.2f", v }'; fi; }
                printf '| %s | /%s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${label[$rotor]}" "$endpoint" \
                    "$(mode_name "$depth" "$connections")" "$(two "$actix")" "$(two "$hyper")" "$(two "$axum")" "$verdict" \
                    "$actix_eff" "$hyper_eff" "$actix_paired" "$hyper_paired"
            done
        done
    fi
    if ((IDLE_CONNECTIONS > 0)) && (($(wc -l <"$idle_results") > 1)); then
        echo
        echo "Memory per idle keep-alive connection ($IDLE_CONNECTIONS connections, one \`GET /plaintext\` each, all checked open before reading the server's memory):"
        echo
        echo "| server | still open | RSS before (KiB) | RSS after (KiB) | bytes/conn (RSS) | bytes/conn (Pss) | RSS / raw hyper |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        hyper_idle=$(awk -F, '$1 == "hyper" { print $10 }' "$idle_results")
        while IFS=, read -r server connections still_open _ _ rss_before rss_after _ _ rss_per pss_per _; do
            printf '| %s | %s | %s | %s | %s | %s | %s |\n' "${label[$server]}" "$still_open" "$rss_before" \
                "$rss_after" "$rss_per" "$pss_per" "$(ratio "$rss_per" "$hyper_idle")"
        done < <(tail -n +2 "$idle_results")
        for rotor in rotor rotor-cio; do
            rotor_idle=$(awk -F, -v s="$rotor" '$1 == s { print $10 }' "$idle_results")
            if [[ -n $rotor_idle && -n $hyper_idle ]]; then
                idle_ratio=$(ratio "$rotor_idle" "$hyper_idle")
                echo
                if awk -v r="$idle_ratio" 'BEGIN { exit !(r + 0 <= 1.2) }'; then
                    echo "${label[$rotor]}: ${idle_ratio}× raw hyper's memory per idle connection, target ≤ 1.2×: met."
                else
                    echo "${label[$rotor]}: ${idle_ratio}× raw hyper's memory per idle connection, target ≤ 1.2×: **missed** by $(awk -v r="$idle_ratio" -v a="$rotor_idle" -v h="$hyper_idle" 'BEGIN { printf "%.0f bytes per connection (%.0f %%)", a - 1.2 * h, (r / 1.2 - 1) * 100 }')."
                fi
            fi
        done
    fi
    echo
    echo "Raw results: $results, $idle_results; server logs in $LOAD_OUT/logs."
} >"$summary"

echo
cat "$summary"
if ((${#failures[@]} > 0)); then
    echo
    echo "FAILURES (${#failures[@]}):"
    printf -- '- %s\n' "${failures[@]}"
    exit 1
fi
