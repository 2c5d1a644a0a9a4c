#!/usr/bin/env bash
# Builds the static kubeship binary the container image ships (x86_64-unknown-linux-musl,
# rustls, mimalloc) on this machine, then prints its size and `file` output.
#
#   scripts/build-static.sh            # -> target/x86_64-unknown-linux-musl/release/kubeship
#   CARGO_TARGET_DIR=/tmp/t scripts/build-static.sh
#
# Needs: rustup (adds the musl target), and a C compiler for musl (ring and mimalloc have C
# code): Debian's musl-tools (musl-gcc), installed here when missing and run as root; else
# plain gcc is used, which is enough for ring but not always for mimalloc.
set -euo pipefail

cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl

if ! rustup target list --installed | grep -qx "$target"; then
    echo "adding the Rust target $target" >&2
    rustup target add "$target"
fi

if ! command -v musl-gcc >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing musl-tools (musl-gcc)" >&2
    apt-get install -y -qq musl-tools >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq musl-tools >/dev/null 2>&1; } \
        || echo "could not install musl-tools; trying plain gcc" >&2
fi
if command -v musl-gcc >/dev/null 2>&1; then
    export CC_x86_64_unknown_linux_musl=musl-gcc
else
    export CC_x86_64_unknown_linux_musl=gcc
fi

cargo build --release --locked --target "$target" --features mimalloc --bin kubeship

out="${CARGO_TARGET_DIR:-target}/$target/release/kubeship"
bytes=$(stat -c %s "$out")
echo "binary: $out"
echo "size:   $bytes bytes ($(( (bytes + 524288) / 1048576 )) MiB)"
echo "file:   $(file -b "$out")"
if command -v ldd >/dev/null 2>&1; then
    echo "ldd:    $(ldd "$out" 2>&1 | head -1)"
fi
"$out" --version
