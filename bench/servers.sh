# Sourced by the bench scripts (load.sh, ab.sh, profile.sh, instructions/measure.sh): the servers of the load
# comparison by name, TechEmpower's request headers, and the scripts' log and error helpers.

# The binary each server name runs, and the package of bench/peers that builds it.
# shellcheck disable=SC2034 # used by the scripts that source this file
declare -A binary=([hyper]=hyper-server [axum]=axum-server [actix]=actix-server [rotor]=rotor-server
    [rotor-h1]=rotor-h1-prototype [h1-bare]=h1-bare-server [rotor-cio]=rotor-cio-server)
# shellcheck disable=SC2034
declare -A package=([hyper]=hyper-server [axum]=axum-server [actix]=actix-web-server [rotor]=rotor-server
    [rotor-h1]=rotor-h1-prototype [h1-bare]=rotor-h1-prototype [rotor-cio]=rotor-server)

# TechEmpower's request headers for the two tests.
# shellcheck disable=SC2034
ACCEPT_PLAINTEXT='text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7'
# shellcheck disable=SC2034
ACCEPT_JSON='application/json,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7'

say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# wrk_for ENDPOINT CONNECTIONS DEPTH: sets `wrk`, the wrk command for one test of the load comparison (on
# CLIENT_CPU, one thread, TechEmpower's headers, bench/wrk's report script, pipelined when DEPTH > 1), and `args`,
# what goes after the URL.
wrk_for() {
    local accept=$ACCEPT_PLAINTEXT script=report.lua
    if [[ $1 == json ]]; then accept=$ACCEPT_JSON; fi
    args=()
    if (($3 > 1)); then
        script=pipeline.lua
        args=(-- "$3")
    fi
    wrk=(taskset -c "$CLIENT_CPU" wrk -t1 -c"$2" --timeout 2s -H "Accept: $accept" -H 'Connection: keep-alive'
        -s "$bench/wrk/$script")
}
