#!/usr/bin/env bash
# Step "Install redline" of the GitHub Action (../action.yml): builds redline from the
# action's own source ($GITHUB_ACTION_PATH, the ref named in `uses:`) with
# `cargo install --locked`, into a directory of the runner's tool cache named by a hash of
# that source, and puts its bin directory on the PATH of the steps that follow
# ($GITHUB_PATH). A cache directory that already holds the binary is used as it is: the first
# run on a runner compiles (minutes); later runs of the same source on a runner that keeps its
# tool cache (self-hosted, or a cached $RUNNER_TOOL_CACHE/redline) take a second.
#
# Keyed by the source's content, not the ref: a branch ref moves, and the copy of the action
# a runner downloads is an archive without git metadata.
#
# Reads only the environment the runner sets (GITHUB_ACTION_PATH, GITHUB_PATH,
# RUNNER_TOOL_CACHE, RUNNER_TEMP); writes `bin` (the directory added) and `cache-hit` to
# $GITHUB_OUTPUT.
set -euo pipefail

src=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: run this from the action}
cache_root=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:?RUNNER_TEMP is not set}/tool-cache}

# What the binary is built from (the files cargo reads for it; not the tests).
key=$(
  cd "$src"
  for f in Cargo.toml Cargo.lock build.rs src rules tools/engines vendor; do
    [[ -e $f ]] && find "$f" -type f -print0
  done | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
)
dir=$cache_root/redline/$key
bin=$dir/bin

if [[ -x $bin/redline ]]; then
  echo "redline: using the build in the tool cache, $dir"
  hit=true
else
  if ! command -v cargo >/dev/null 2>&1; then
    echo "::error title=redline action::cargo is not on the PATH: the action builds redline from source and needs a Rust toolchain (GitHub-hosted runners have one; elsewhere add a step such as dtolnay/rust-toolchain@stable first)"
    exit 1
  fi
  echo "redline: building redline from $src (the first run on a runner takes minutes)"
  # Installed beside the final directory, then renamed: a job running at the same time on
  # the same runner never sees a half-written binary.
  mkdir -p "$cache_root/redline"
  tmp=$(mktemp -d "$cache_root/redline/.install.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  cargo install --locked --path "$src" --root "$tmp" \
    --target-dir "${RUNNER_TEMP:-$tmp}/redline-target" --bin redline
  if [[ ! -x $tmp/bin/redline ]]; then
    echo "::error title=redline action::cargo install finished without installing $tmp/bin/redline"
    exit 1
  fi
  mv -T "$tmp" "$dir" 2>/dev/null || [[ -x $bin/redline ]]
  hit=false
fi

echo "$bin" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
"$bin/redline" --version
{
  echo "bin=$bin"
  echo "cache-hit=$hit"
} >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
