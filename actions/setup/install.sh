#!/usr/bin/env bash
# Installs Slipway tools from this repository's release bundles, verified
# against the release's SHA256SUMS, into SLIPWAY_INSTALL_DIR; where no
# bundle matches (an unreleased ref, a platform without bundles) it builds
# the tool from the action's own sources with `cargo install --locked`.
#
# Used by actions/setup and actions/ci-matrix; runnable by hand. Inputs,
# from the environment:
#   SLIPWAY_TOOLS        tools, comma- or space-separated (ci-matrix,
#                        art-stream, art-consume, spot-leaser)
#   SLIPWAY_VERSION      0.1.0 or v0.1.0; empty: no bundle, build from source
#   SLIPWAY_INSTALL_DIR  where the binaries go (made if missing); a tool
#                        already there at the version (or, without a
#                        version, at all: plan.sh keys the directory by the
#                        sources) is kept
#   SLIPWAY_REPOSITORY   OWNER/NAME whose releases hold the bundles
#   SLIPWAY_SERVER_URL   https://github.com (GitHub Enterprise: its URL)
#   SLIPWAY_API_URL      https://api.github.com
#   SLIPWAY_TOKEN        optional: download through the API with it (private
#                        releases); never printed
#   SLIPWAY_SOURCE_DIR   the repository checkout to build from when falling back
#   SLIPWAY_CARGO_FLAGS  more `cargo install` flags for the fallback
#   SLIPWAY_TARGET       the target triple [default: from uname]
# Exit status: 0 installed; 1 a download failed or a bundle does not match
# SHA256SUMS (the message names the file); 2 bad input.
set -euo pipefail

KNOWN="ci-matrix art-stream art-consume spot-leaser"

fail() {
  local code=$1
  shift
  echo "::error title=slipway setup::$*" >&2
  exit "$code"
}
note() { echo "slipway setup: $*" >&2; }

tools=${SLIPWAY_TOOLS:-ci-matrix}
tools=${tools//,/ }
version=${SLIPWAY_VERSION:-}
version=${version#v}
dest=${SLIPWAY_INSTALL_DIR:?SLIPWAY_INSTALL_DIR is not set}
repository=${SLIPWAY_REPOSITORY:-slipway-ci/slipway}
server=${SLIPWAY_SERVER_URL:-https://github.com}
api=${SLIPWAY_API_URL:-https://api.github.com}
source_dir=${SLIPWAY_SOURCE_DIR:-}

for tool in $tools; do
  case " $KNOWN " in
    *" $tool "*) ;;
    *) fail 2 "unknown tool \"$tool\" (known: $KNOWN)" ;;
  esac
done
[ -n "${tools// /}" ] || fail 2 "no tools given"
if [ -n "$version" ] && ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([.+-][0-9A-Za-z.+-]+)?$ ]]; then
  fail 2 "version \"$version\" is not a release version such as 0.1.0"
fi
[[ $repository =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || fail 2 "repository \"$repository\" is not OWNER/NAME"

target=${SLIPWAY_TARGET:-}
if [ -z "$target" ]; then
  case "$(uname -m)" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) arch="" ;;
  esac
  case "$(uname -s)" in
    Linux) os=unknown-linux-gnu ;;
    Darwin) os=apple-darwin ;;
    *) os="" ;;
  esac
  [ -n "$arch" ] && [ -n "$os" ] && target="$arch-$os"
fi

mkdir -p "$dest"
work=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/slipway-setup.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Fetches one release file into $2. Returns 0 when fetched, 3 when the
# release has no such file (404), and fails the step otherwise.
fetch() {
  local name=$1 out=$2 url code
  local curl=(curl --silent --show-error --location --retry 3 --retry-delay 2
    --connect-timeout 20 --max-time 600 --output "$out" --write-out '%{http_code}')
  if [ -n "${SLIPWAY_TOKEN:-}" ]; then
    local status=0
    url=$(asset_url "$name") || status=$?
    case "$status" in
      0) ;;
      3) return 3 ;;
      *) exit "$status" ;;
    esac
    # The token goes through a file, not the command line or the log.
    code=$("${curl[@]}" --config "$work/auth" --header "Accept: application/octet-stream" "$url") || code=000
  else
    url="$server/$repository/releases/download/v$version/$name"
    code=$("${curl[@]}" "$url") || code=000
  fi
  case "$code" in
    200) return 0 ;;
    404) return 3 ;;
    *) fail 1 "downloading $name from $url failed (HTTP $code)" ;;
  esac
}

# The API URL of a release asset, from the release's asset list (read
# once). Returns 3 when the release or the asset does not exist.
asset_url() {
  local name=$1 code
  if [ ! -f "$work/release.json" ]; then
    printf 'header = "Authorization: Bearer %s"\n' "$SLIPWAY_TOKEN" >"$work/auth"
    chmod 600 "$work/auth"
    code=$(curl --silent --show-error --location --retry 3 --connect-timeout 20 --max-time 60 \
      --config "$work/auth" --header "Accept: application/vnd.github+json" \
      --output "$work/release.json" --write-out '%{http_code}' \
      "$api/repos/$repository/releases/tags/v$version") || code=000
    case "$code" in
      200) ;;
      404) : >"$work/release.json"; return 3 ;;
      *) fail 1 "reading release v$version of $repository from $api failed (HTTP $code)" ;;
    esac
  fi
  python3 - "$work/release.json" "$name" <<'PY'
import json, sys
try:
    release = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit(3)
for asset in release.get("assets", []):
    if asset.get("name") == sys.argv[2]:
        print(asset["url"])
        sys.exit(0)
sys.exit(3)
PY
}

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi
}

# Unpacks a verified bundle and moves the binary into place atomically.
install_bundle() {
  local tool=$1 archive=$2 name=$3
  mkdir -p "$work/unpack"
  tar --extract --gzip --file "$archive" --directory "$work/unpack" --no-same-owner \
    || fail 1 "$name is not a readable tar.gz"
  local binary="$work/unpack/$name/$tool"
  [ -f "$binary" ] || fail 1 "$name holds no $name/$tool"
  cp "$binary" "$dest/.$tool.partial"
  chmod 755 "$dest/.$tool.partial"
  mv -f "$dest/.$tool.partial" "$dest/$tool"
}

build_from_source() {
  local tool=$1 why=$2
  echo "::notice title=slipway setup::$tool: $why; building it from source with cargo install --locked (about a minute; ten for spot-leaser)"
  [ -n "$source_dir" ] && [ -f "$source_dir/crates/$tool/Cargo.toml" ] \
    || fail 1 "$tool: $why, and no source checkout to build from (SLIPWAY_SOURCE_DIR)"
  command -v cargo >/dev/null || fail 1 "$tool: $why, and cargo is not installed to build it"
  # shellcheck disable=SC2086 # the flags are several words on purpose
  cargo install --locked --quiet ${SLIPWAY_CARGO_FLAGS:-} --root "$work/cargo" \
    --path "$source_dir/crates/$tool" >&2
  mv -f "$work/cargo/bin/$tool" "$dest/$tool"
}

summary=()
sums_state=unknown
for tool in $tools; do
  if [ -n "$version" ] && [ -x "$dest/$tool" ] \
    && [ "$("$dest/$tool" --version 2>/dev/null)" = "$tool $version" ]; then
    note "$tool $version: already installed"
    summary+=("| $tool | $version | cached |")
    continue
  fi
  if [ -z "$version" ] && [ -x "$dest/$tool" ] && "$dest/$tool" --version >/dev/null 2>&1; then
    # Without a version the directory is keyed by the sources (plan.sh).
    note "$tool: already built from these sources"
    summary+=("| $tool | source | cached |")
    continue
  fi
  if [ -z "$version" ]; then
    build_from_source "$tool" "the action's ref is not a release"
    summary+=("| $tool | source | cargo install |")
    continue
  fi
  if [ -z "$target" ]; then
    build_from_source "$tool" "no release bundle is made for $(uname -s) $(uname -m)"
    summary+=("| $tool | $version | cargo install |")
    continue
  fi
  if [ "$sums_state" = unknown ]; then
    if fetch SHA256SUMS "$work/SHA256SUMS"; then sums_state=present; else sums_state=missing; fi
  fi
  name="$tool-$version-$target.tar.gz"
  if [ "$sums_state" = missing ]; then
    build_from_source "$tool" "release v$version of $repository has no SHA256SUMS"
    summary+=("| $tool | $version | cargo install |")
    continue
  fi
  if ! fetch "$name" "$work/$name"; then
    build_from_source "$tool" "release v$version has no bundle $name"
    summary+=("| $tool | $version | cargo install |")
    continue
  fi
  expected=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$work/SHA256SUMS")
  [ -n "$expected" ] || fail 1 "$name is not listed in SHA256SUMS of release v$version"
  actual=$(sha256 "$work/$name" | cut -d' ' -f1)
  if [ "$actual" != "$expected" ]; then
    fail 1 "$name does not match SHA256SUMS of release v$version (expected $expected, got $actual): not installed"
  fi
  install_bundle "$tool" "$work/$name" "${name%.tar.gz}"
  note "$tool $version: installed from $name (sha256 $actual)"
  summary+=("| $tool | $version | release bundle, verified |")
done

for tool in $tools; do
  "$dest/$tool" --version >&2 || fail 1 "$tool was installed but does not run"
done
if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$dest" >>"$GITHUB_PATH"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    echo "### slipway setup"
    echo
    echo "| tool | version | from |"
    echo "| --- | --- | --- |"
    printf '%s\n' "${summary[@]}"
  } >>"$GITHUB_STEP_SUMMARY"
fi
