#!/usr/bin/env bash
# Release tarballs: `make dist` (VERSION and COMMIT from git unless given).
# One static binary per platform (CGO off, so no libc dependency), with the
# demo config, the systemd unit, the Grafana dashboard and the docs:
#
#   dist/smppd-<version>-linux-amd64.tar.gz
#   dist/smppd-<version>-linux-arm64.tar.gz
#   dist/SHA256SUMS
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
VERSION=${VERSION:?VERSION is required}
COMMIT=${COMMIT:?COMMIT is required}
PLATFORMS=${PLATFORMS:-"linux/amd64 linux/arm64"}
LDFLAGS="-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}"

rm -rf dist
mkdir -p dist
for p in $PLATFORMS; do
	os=${p%/*} arch=${p#*/}
	name="smppd-${VERSION}-${os}-${arch}"
	root="dist/${name}"
	mkdir -p "${root}/bin" "${root}/configs" "${root}/deploy/grafana" "${root}/docs"
	for cmd in smppd smppctl; do
		CGO_ENABLED=0 GOOS=$os GOARCH=$arch $GO build -trimpath -ldflags "$LDFLAGS" -o "${root}/bin/${cmd}" "./cmd/${cmd}"
	done
	cp configs/smppd.toml configs/users.toml "${root}/configs/"
	cp deploy/smppd.service "${root}/deploy/"
	cp deploy/grafana/*.json "${root}/deploy/grafana/"
	cp README.md "${root}/"
	cp docs/*.md "${root}/docs/"
	# Owner and times fixed, so the same commit gives the same tarball.
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$(git log -1 --format=%ct 2>/dev/null || echo 0)" \
		-C dist -cf - "${name}" | gzip -n >"dist/${name}.tar.gz"
	rm -rf "${root}"
	echo "dist/${name}.tar.gz"
done
(cd dist && sha256sum ./*.tar.gz >SHA256SUMS)
