# syntax=docker/dockerfile:1
#
# service-order-gateway container image.
#
#   docker build -t service-order-gateway:dev \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#
# Two stages: a Rust builder (dependencies compiled in their own cached layer)
# and a distroless runtime with no shell, no package manager and a non-root user.

############################ builder ############################
FROM rust:1.95-slim-bookworm AS builder

# No system OpenSSL, pkg-config or other apt packages are needed: reqwest uses
# rustls and the Swagger UI assets are vendored, so the only build-time
# downloads are crates from the registry.
ENV CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0 \
    CARGO_NET_RETRY=5

WORKDIR /build

# 1. Dependencies only. Copy the manifest and lock file, stand up dummy targets
#    for every target the crate has (lib, main bin, sog-simulator bin) and build.
#    This layer is reused until Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src/bin \
 && echo '//! dependency-cache placeholder' > src/lib.rs \
 && echo 'fn main() {}' > src/main.rs \
 && echo 'fn main() {}' > src/bin/sog-simulator.rs \
 && cargo build --release --locked \
 && rm -rf src

# 2. The real sources. COPY keeps the files' own mtimes, which can be older than
#    the dummy build above, so touch them or cargo would keep the dummy binary.
COPY src/ src/
COPY openapi/ openapi/
RUN find src -type f -name '*.rs' -exec touch {} + \
 && cargo build --release --locked --bin service-order-gateway

############################ runtime ############################
# distroless "cc": glibc + libgcc (what a Rust binary built on bookworm links
# against) and CA certificates, nothing else. Tag ":nonroot" runs as 65532.
FROM gcr.io/distroless/cc-debian12:nonroot

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown

LABEL org.opencontainers.image.title="service-order-gateway" \
      org.opencontainers.image.description="A caching, rate-limiting HTTP gateway in front of NTT Com's Service Order API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"

COPY --from=builder /build/target/release/service-order-gateway /usr/local/bin/service-order-gateway

# nonroot:nonroot of the distroless image, written numerically so that the
# kubelet can verify runAsNonRoot even when a pod sets no runAsUser (hadolint
# DL3066 flags the name form for the same reason).
USER 65532:65532

# All configuration is flags / SOG_* variables. The listen address is fixed
# here; the Helm chart's probes, Service and NetworkPolicy assume port 8080.
ENV SOG_LISTEN=0.0.0.0:8080 \
    SOG_LOG_FORMAT=json

EXPOSE 8080

# No HEALTHCHECK: the image has no shell or curl to run one, and in Kubernetes
# the kubelet probes GET /healthz (liveness) and GET /readyz (readiness)
# directly (see helm/service-order-gateway). Docker's HEALTHCHECK is ignored
# by Kubernetes anyway.

ENTRYPOINT ["/usr/local/bin/service-order-gateway"]
