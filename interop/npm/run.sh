#!/usr/bin/env bash
# npm `smpp` client suite. Env: SMPP_HOST, SMPP_PORT, SMPPD_ADMIN(_TOKEN).
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -d node_modules/smpp ]]; then
	echo "FAIL npm setup: node_modules/smpp missing (run interop/install.sh)"
	exit 1
fi
exec node suite.js "${SMPP_HOST:-127.0.0.1}" "${SMPP_PORT:-2775}"
