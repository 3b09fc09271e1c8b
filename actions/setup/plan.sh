#!/usr/bin/env bash
# Works out what actions/setup installs and where it is cached, as step
# outputs: `version` (empty when the tools are built from source), `tools`
# (sorted, space-separated), `dir` (the cached bin directory) and `key`
# (the cache key's own part: the version, or a hash of the sources).
#
# From the environment: SLIPWAY_TOOLS, SLIPWAY_VERSION (empty: the action's
# ref when it is a release tag vX.Y.Z), SLIPWAY_ACTION_REF, and
# SLIPWAY_SOURCE_DIR (the action's repository checkout).
set -euo pipefail
set -f # tool lists are split on spaces, never globbed

tools=${SLIPWAY_TOOLS:-ci-matrix}
tools=$(printf '%s\n' ${tools//,/ } | sort -u | tr '\n' ' ')
tools=${tools% }
version=${SLIPWAY_VERSION:-}
ref=${SLIPWAY_ACTION_REF:-}
if [ -z "$version" ] && [[ $ref =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]; then
  version=$ref
fi
version=${version#v}
if [ -n "$version" ]; then
  key="v$version"
else
  # Built from source: cached by the sources themselves, so a branch that
  # moves never serves an old build.
  source_dir=${SLIPWAY_SOURCE_DIR:?SLIPWAY_SOURCE_DIR is not set}
  key="src-$(cd "$source_dir" && find Cargo.toml Cargo.lock crates -type f -not -path '*/target/*' -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
fi
dir="$HOME/.cache/slipway/tools/$key-${tools// /-}/bin"
{
  echo "version=$version"
  echo "tools=$tools"
  echo "key=$key-${tools// /-}"
  echo "dir=$dir"
} >>"${GITHUB_OUTPUT:-/dev/stdout}"
