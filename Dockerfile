# smppd container image: docs/OPERATIONS.md ("Containers").
#
#   make image        (docker build with VERSION and COMMIT from git)
#   docker build --build-arg VERSION=v1.2.0 --build-arg COMMIT=$(git rev-parse --short=12 HEAD) -t smppd .
#   docker run --rm -p 2775:2775 -v /srv/smppd:/etc/smppd -v smppd-store:/var/lib/smppd/store smppd
#
# The image carries the demo configuration (configs/), which listens on
# 127.0.0.1 like every smppd default: inside a container that is reachable
# from nowhere. Mount a directory with your own smppd.toml and users.toml on
# /etc/smppd, with [smpp-server] bind = "0.0.0.0" (and, to reach the admin
# API and /metrics from outside, [admin] bind = "0.0.0.0" with a token).
# Keep [storage] dir = "/var/lib/smppd/store": accepted messages, receipts
# and balances live there, in a volume that outlives the container.
# The HEALTHCHECK asks the admin API's /v1/health on 127.0.0.1:8790 from
# inside the container: keep [admin] enabled on that port (any bind that
# includes loopback), or override it (docker run --health-cmd, or
# --no-healthcheck). Secrets can stay out of the mounted config:
# token = "env:SMPPD_ADMIN_TOKEN", key_file = "file:/run/secrets/tls.key"
# (docs/CONFIG.md, "Secrets").

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
# The build context has no .git (.dockerignore): the version is passed in,
# as `make image` does, and shown by smppd -version, /v1/health and
# smppd_build_info.
ARG VERSION=dev
ARG COMMIT=unknown
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static binary: the runtime image has no libc.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/smppd ./cmd/smppd \
	&& /out/smppd -version
# The demo config with its data directory moved to the volume (the build
# fails if the demo's dir line changes and the edit no longer applies), and
# that directory, empty, so the volume starts owned by the service user.
RUN sed 's|^dir = "var/smppd".*|dir = "/var/lib/smppd/store"      # the image'"'"'s VOLUME|' configs/smppd.toml >/out/smppd.toml \
	&& grep -q '^dir = "/var/lib/smppd/store"' /out/smppd.toml \
	&& mkdir -p /out/store

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="smppd" org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/smppd /usr/local/bin/smppd
# Writable by the service user: smppd rewrites the users file (temporary
# file and rename in the same directory) when balances or users change.
COPY --from=build --chown=nonroot:nonroot /out/smppd.toml /etc/smppd/smppd.toml
COPY --chown=nonroot:nonroot configs/users.toml /etc/smppd/
COPY --from=build --chown=nonroot:nonroot /out/store /var/lib/smppd/store
# The disk store ([storage] dir): one smppd per volume (it is locked).
VOLUME /var/lib/smppd/store
USER nonroot:nonroot
WORKDIR /etc/smppd
# 2775 SMPP, 3550 SMPP over TLS (when enabled), 8790 admin API and /metrics.
EXPOSE 2775 3550 8790
# The image has no shell or curl: smppd itself asks /v1/health (no token
# needed) and exits 0 on 200. start-period covers opening a large store.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
	CMD ["/usr/local/bin/smppd", "health", "http://127.0.0.1:8790/v1/health"]
ENTRYPOINT ["/usr/local/bin/smppd"]
CMD ["-config", "/etc/smppd/smppd.toml"]
