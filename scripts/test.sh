#!/usr/bin/env bash
# Runs every test oxiam has, as CI does: formatting, lints, generated code freshness, the
# Rust tests (unit, SigV4 vectors, end-to-end with the AWS SDK for Rust on SQLite and on
# PostgreSQL), then the compatibility suite (boto3, the AWS CLI and s3cmd in a local venv;
# rclone from apt; the AWS SDK for JavaScript from npm).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "PostgreSQL"
./scripts/ensure-postgres.sh
export OXIAM_TEST_POSTGRES_URL=${OXIAM_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}

step "formatting"
cargo fmt --all -- --check

step "generated code is fresh"
python3 codegen/generate.py
python3 codegen/gen-catalogue.py
python3 scripts/gen-aws-managed-policies.py
python3 codegen/gen-service-linked-roles.py
git diff --exit-code -- crates/oxiam-protocol/src/generated crates/oxiam-catalogue/src/generated.rs crates/oxiam-aws-policies \
  || { echo "generated files differ from the committed ones: run codegen/generate.py, codegen/gen-catalogue.py, scripts/gen-aws-managed-policies.py and codegen/gen-service-linked-roles.py" >&2; exit 1; }

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo tests"
cargo test --workspace --no-fail-fast

step "compatibility suite (boto3, AWS CLI, rclone, s3cmd, AWS SDK for JavaScript)"
cargo build --bin oxiam
./compat/run.sh
