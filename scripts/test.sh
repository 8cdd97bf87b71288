#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration and example tests (with cargo-nextest when it is
# installed, cargo test otherwise), the black-box tests of tests/ a second time on rotor-cio, then the
# documentation examples.
set -euo pipefail
cd "$(dirname "$0")/.."

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
  # The black-box tests again, on Rotor's own HTTP/1.1 engine (rotor-hyper above).
  ROTOR_TEST_ENGINE=cio cargo nextest run -p rotor-tests --no-fail-fast
else
  echo "cargo-nextest not found; running the tests with cargo test" >&2
  cargo test --workspace --no-fail-fast --lib --bins --tests
  ROTOR_TEST_ENGINE=cio cargo test -p rotor-tests --no-fail-fast --lib --bins --tests
fi
cargo test --workspace --doc
