#!/usr/bin/env bash
# The one command that runs every test of sprechstunde: formatting, clippy, unit and
# end-to-end tests. README and CI (`.ci/run`) call it; it installs what the tests need
# (Chromium, ChromeDriver, axe-core) on first use and is fast once they are there.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="$HOME/.cache/sprechstunde"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
if [[ "${CI:-}" == "true" ]]; then
    # A fresh clone builds everything once; incremental artefacts would only cost disk.
    export CARGO_INCREMENTAL=0
fi

section() {
    printf '\n==> %s\n' "$*"
}

# Runs a command as root: directly when we are root, else through sudo (never prompting).
as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo -n "$@"
    else
        echo "error: need root (or sudo) to run: $*" >&2
        return 1
    fi
}

# Debian's Chromium and ChromeDriver for the browser tests (a test tool's own browser
# download does not work on our machines). Recommends are skipped (printer tools, Mesa,
# upower: nothing a headless browser uses) but for fonts-liberation, so that text renders
# the same on every machine.
ensure_chromium() {
    if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
        return
    fi
    section "installing chromium and chromium-driver (apt-get)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        chromium chromium-driver fonts-liberation
}

# axe-core, injected into pages by the browser tests to check accessibility (WCAG 2.1 AA).
ensure_axe() {
    local dir="$CACHE/node"
    if [[ ! -f "$dir/node_modules/axe-core/axe.min.js" ]]; then
        section "installing axe-core (npm)"
        mkdir -p "$dir"
        (cd "$dir" && npm install --no-audit --no-fund --no-update-notifier --loglevel=error axe-core@4)
    fi
    export SPRECHSTUNDE_AXE_JS="$dir/node_modules/axe-core/axe.min.js"
}

# Synapse, the Matrix homeserver the Matrix end-to-end tests run against (tests/src/synapse.rs
# starts one per test on 127.0.0.1), in a cached venv. Exports its path.
ensure_synapse() {
    local venv="$CACHE/synapse-venv"
    if [[ ! -x "$venv/bin/synapse_homeserver" ]]; then
        section "installing matrix-synapse (pip, into $venv)"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check matrix-synapse
    fi
    export SPRECHSTUNDE_SYNAPSE_VENV="$venv"
}

section "test dependencies"
ensure_chromium
ensure_axe
synapse_started=$SECONDS
ensure_synapse
echo "synapse:      $("$SPRECHSTUNDE_SYNAPSE_VENV/bin/python" -c 'import synapse; print(synapse.__version__)' 2>/dev/null || echo '?') ($((SECONDS - synapse_started)) s to ensure)"
export SPRECHSTUNDE_CHROMIUM=/usr/bin/chromium
export SPRECHSTUNDE_CHROMEDRIVER=/usr/bin/chromedriver
echo "chromium:     $("$SPRECHSTUNDE_CHROMIUM" --version 2>/dev/null || echo '?')"
echo "chromedriver: $("$SPRECHSTUNDE_CHROMEDRIVER" --version 2>/dev/null || echo '?')"
echo "axe-core:     $SPRECHSTUNDE_AXE_JS"

section "cargo fmt --check"
cargo fmt --all -- --check

section "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

section "cargo test"
cargo test --workspace --locked --no-fail-fast -- --show-output

section "benchmark smoke: memory per idle web chat socket (tiny size)"
"$CARGO_TARGET_DIR/debug/sprechstunde-socket-bench" --sockets 100 --waves 1

section "all tests passed"
