# syntax=docker/dockerfile:1
#
# Klaxon container image.
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t klaxon .
#
# Build stage: cgo is required (github.com/mattn/go-sqlite3 compiles SQLite in C);
# golang:*-bookworm ships gcc and libc6-dev.
FROM golang:1.26-bookworm AS build
WORKDIR /src
# The golang images set GOTOOLCHAIN=local; auto lets go.mod's toolchain line
# (the Go patch release with the standard library's security fixes) win when
# the image's Go is older.
ENV CGO_ENABLED=1 GOTOOLCHAIN=auto

# Dependencies first: this layer is rebuilt only when go.mod/go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

COPY . .
ARG VERSION=dev
# -trimpath: no local paths in the binary; -s -w: no symbol table / DWARF.
# The build cache mount keeps incremental rebuilds fast (BuildKit, the default builder).
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/klaxon ./cmd/klaxon \
 && /out/klaxon version

# Runtime stage: debian:bookworm-slim rather than distroless.
# - The cgo binary links glibc dynamically; building on bookworm and running on
#   bookworm gives the same glibc (2.36). gcr.io/distroless/base-debian12 would
#   work as well, but it has no shell to create the /data mount point owned by
#   uid 10001, and no shell for `docker exec` when an incident tool itself is
#   in trouble at 3 a.m.
# - No curl: `klaxon healthcheck` does the HTTP check.
FROM debian:bookworm-slim
ARG VERSION=dev
LABEL org.opencontainers.image.title="klaxon" \
      org.opencontainers.image.description="Discord incident-response bot for Prometheus Alertmanager" \
      org.opencontainers.image.source="https://github.com/marola-rp/klaxon" \
      org.opencontainers.image.version="${VERSION}"

# ca-certificates: TLS to Discord and the paging providers.
# tzdata: on-call schedules are written in local time zones.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 klaxon \
 && useradd --system --uid 10001 --gid klaxon --home-dir /data --no-create-home \
            --shell /usr/sbin/nologin klaxon \
 && mkdir -p /data /etc/klaxon \
 && chown 10001:10001 /data \
 && chmod 0700 /data

COPY --from=build /out/klaxon /usr/local/bin/klaxon

# Numeric IDs, so Kubernetes' runAsNonRoot can verify them without /etc/passwd.
USER 10001:10001
# SQLite database (and its -wal/-shm files, backups under /data/backups), all
# 0600 in 0700 directories: they hold alert text, incident history and who
# did what. A named Docker volume copies the ownership and mode of this
# directory on first use, so uid 10001 can write to it and nobody else read.
VOLUME /data
ENV KLAXON_DB=/data/klaxon.db \
    KLAXON_HTTP_ADDR=:8080
EXPOSE 8080

# The configuration is not baked in: mount it at /etc/klaxon/klaxon.yaml
# (`klaxon init` writes one; see deploy/klaxon.example.yaml). Secrets come from the
# environment, or better from files (docker secrets, Kubernetes Secret volumes):
# KLAXON_DISCORD_TOKEN_FILE, KLAXON_WEBHOOK_TOKEN_FILE (or the variables without _FILE).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/klaxon", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/klaxon"]
CMD ["serve", "--config", "/etc/klaxon/klaxon.yaml"]
