#!/usr/bin/env bash
# Perl Net::SMPP suite. Env: SMPP_HOST, SMPP_PORT, SMPPD_ADMIN(_TOKEN).
set -euo pipefail
cd "$(dirname "$0")"
if ! perl -MNet::SMPP -e1 2>/dev/null; then
	echo "FAIL perl setup: Net::SMPP missing (run interop/install.sh)"
	exit 1
fi
exec perl suite.pl "${SMPP_HOST:-127.0.0.1}" "${SMPP_PORT:-2775}"
