#!/usr/bin/env bash
# gosmpp (github.com/linxGnu/gosmpp v0.3.1) suite, built from its own Go
# module so the product's go.mod stays clean. Env: SMPP_HOST, SMPP_PORT,
# SMPPD_ADMIN(_TOKEN), INTEROP_WORK (where the binary goes).
set -euo pipefail
cd "$(dirname "$0")"
out=${INTEROP_WORK:-$(mktemp -d)}/gosmpp-suite
if ! go build -o "$out" .; then
	echo "FAIL gosmpp setup: build failed (module cache: run interop/install.sh)"
	exit 1
fi
exec "$out" "${SMPP_HOST:-127.0.0.1}:${SMPP_PORT:-2775}"
