#!/usr/bin/env bash
# Builds a static redis-ws-bridge (x86_64-unknown-linux-musl, release,
# stripped) that runs on any x86-64 Linux, with no Rust and no libc there:
# the binary the Dockerfile and the systemd unit use.
#
#   bridge/deploy/build-static.sh            # -> target/x86_64-unknown-linux-musl/release/redis-ws-bridge
#   bridge/deploy/build-static.sh --check    # also run it: --version, and a start against nothing
#
# Installs what it needs if it is missing (idempotent): the Rust musl
# target (rustup) and Debian's musl-tools (musl-gcc, for ring's C parts).
# Not part of scripts/test.sh: a release build of every dependency takes
# minutes on a small machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

TARGET=x86_64-unknown-linux-musl

if ! rustup target list --installed | grep -qx "$TARGET"; then
    rustup target add "$TARGET"
fi
if ! command -v musl-gcc >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get install -y musl-tools || { $sudo apt-get update && $sudo apt-get install -y musl-tools; }
fi

# ring builds C with the target's compiler: musl-gcc.
export CC_x86_64_unknown_linux_musl=musl-gcc
cargo build --release --locked --target "$TARGET" -p redis-ws-bridge \
    --config "target.$TARGET.rustflags=['-C', 'target-feature=+crt-static', '-C', 'strip=symbols']"

BIN="target/$TARGET/release/redis-ws-bridge"
echo "built $BIN ($(du -h "$BIN" | cut -f1))"

if [ "${1:-}" = "--check" ]; then
    # Run it where there is nothing but the binary (an empty root as root,
    # else the host): no interpreter, no shared library, no Rust.
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    cp "$BIN" "$root/redis-ws-bridge"
    run=("$root/redis-ws-bridge")
    if [ "$(id -u)" -eq 0 ] && command -v chroot >/dev/null; then
        run=(chroot "$root" /redis-ws-bridge)
    else
        echo "not root: running it on the host, not in an empty root"
    fi
    "${run[@]}" --version
    # With no Redis it must refuse cleanly, not crash for want of a library.
    if out=$("${run[@]}" --redis 127.0.0.1:1 --redis-connect-timeout 100ms 2>&1); then
        echo "FAIL: started without a Redis" >&2
        exit 1
    fi
    echo "$out" | tail -1
    case "$out" in
        *"cannot reach redis"*) echo "static binary OK" ;;
        *) echo "FAIL: unexpected output" >&2; exit 1 ;;
    esac
fi
