# syntax=docker/dockerfile:1.7
#
# kubeship container image: one static musl binary on a small Alpine with a shell, git and
# CA certificates, for GitLab CI jobs and GitHub Actions.
#
#   docker build -t kubeship .                      # the image for GitLab CI and docker run (non-root)
#   docker build --target action -t kubeship:action .   # the GitHub Action image (root)
#
# Build arguments VERSION, REVISION and CREATED fill the OCI labels.

ARG RUST_VERSION=1.95
ARG ALPINE_VERSION=3.22

# ---------------------------------------------------------------------------------------
# Builder: a static x86_64-unknown-linux-musl binary with rustls and mimalloc.
FROM rust:${RUST_VERSION}-slim-trixie AS builder

RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl

ENV CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0 \
    CC_x86_64_unknown_linux_musl=musl-gcc

WORKDIR /src

# Manifests first: the download layer is cached until Cargo.toml or Cargo.lock change.
# (Stub sources only let cargo read the manifests; they are overwritten below.)
COPY Cargo.toml Cargo.lock ./
COPY crates/fake-apiserver/Cargo.toml crates/fake-apiserver/Cargo.toml
RUN mkdir -p src crates/fake-apiserver/src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs crates/fake-apiserver/src/lib.rs \
 && echo 'fn main() {}' > crates/fake-apiserver/src/main.rs \
 && cargo fetch --locked --target x86_64-unknown-linux-musl

COPY . .
# The target folder is a build cache: dependencies compile once, not on every source change.
RUN --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --offline \
        --target x86_64-unknown-linux-musl \
        --features mimalloc \
        --bin kubeship \
 && install -m 0755 target/x86_64-unknown-linux-musl/release/kubeship /usr/local/bin/kubeship \
 && /usr/local/bin/kubeship --version

# ---------------------------------------------------------------------------------------
# Runtime base: a shell (GitLab jobs run scripts), git (`kubeship ci`, image automation),
# CA certificates (rustls reads the system roots), ssh for git remotes.
FROM alpine:${ALPINE_VERSION} AS runtime-base

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown

LABEL org.opencontainers.image.title="kubeship" \
      org.opencontainers.image.description="CI-driven GitOps for Kubernetes: render, validate, diff, apply with prune, notify" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/kubeship/kubeship" \
      org.opencontainers.image.documentation="https://github.com/kubeship/kubeship#readme"

RUN apk add --no-cache ca-certificates git openssh-client \
 # CI checkouts belong to another user than the job's: let git work in them.
 && git config --system --add safe.directory '*' \
 && addgroup -S -g 10001 kubeship \
 && adduser -S -D -H -u 10001 -G kubeship -h /home/kubeship -s /bin/sh kubeship \
 && mkdir -p /home/kubeship \
 && chown kubeship:kubeship /home/kubeship

COPY --from=builder /usr/local/bin/kubeship /usr/local/bin/kubeship

# mimalloc: commit memory lazily and give it back at once, so a validate run of 5,000
# manifests stays near 40 MB RSS instead of ~60 MB.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    MIMALLOC_ARENA_EAGER_COMMIT=0 \
    MIMALLOC_PURGE_DELAY=0

# ---------------------------------------------------------------------------------------
# The GitHub Action image: GitHub runs container actions as the image's user and mounts the
# workspace and its command files owned by the runner, so the action runs as root.
FROM runtime-base AS action
USER root
CMD ["kubeship", "--help"]

# ---------------------------------------------------------------------------------------
# The default image (last stage): non-root, for GitLab CI and `docker run`.
FROM runtime-base AS runtime
USER 10001:10001
ENV HOME=/home/kubeship
WORKDIR /home/kubeship
CMD ["kubeship", "--help"]
