#!/usr/bin/env bash
# Installs what interop/run.sh needs on a fresh Debian machine; safe to run
# again (scripts/install-deps.sh calls it). Debian packages: kannel
# (bearerbox, smsbox), libnet-smpp-perl, nodejs, npm, curl. npm: interop/npm
# from its lock file. Go: interop/gosmpp's own module (go.mod/go.sum).
set -euo pipefail
cd "$(dirname "$0")"

need=()
[[ -x /usr/sbin/bearerbox && -x /usr/sbin/smsbox ]] || command -v bearerbox >/dev/null || need+=(kannel)
perl -MNet::SMPP -e1 2>/dev/null || need+=(libnet-smpp-perl)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]})); then
	sudo=()
	((EUID == 0)) || sudo=(sudo)
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

(cd npm && npm ci --no-audit --no-fund --loglevel=error)
(cd gosmpp && go mod download)
