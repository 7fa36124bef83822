#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine:
# Go modules, Debian packages for the interop and cross-check tests, and the
# npm packages (from the committed lock files). Safe to run more than once.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v perl >/dev/null || need_apt+=(perl)
perl -MNet::SMPP -e1 2>/dev/null || need_apt+=(libnet-smpp-perl)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
if ((${#need_apt[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

go mod download
for dir in $(find . -name package-lock.json -not -path '*/node_modules/*' -exec dirname {} \;); do
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
# The interoperability suite's clients: kannel, curl, interop/npm, the
# gosmpp module.
bash interop/install.sh
