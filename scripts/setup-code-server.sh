#!/usr/bin/env bash
# Installs a runnable VS Code for the integration tests: code-server (Coder's build of VS Code OSS,
# real workbench + real Node extension host) and headless Debian Chromium to drive it.
# @vscode/test-electron cannot download desktop VS Code here, so scripts/test-vscode.mjs points
# runTests() at test/vscode/code-shim.js, which starts this code-server.
# Idempotent: every step is skipped when already done.
# usage: scripts/setup-code-server.sh [INSTALL_DIR]   (default .test-work/code-server)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR=${1:-$ROOT/.test-work/code-server}
CS_VERSION=${CS_VERSION:-4.100.3}   # last code-server whose engines.node is 20 (VS Code 1.100.3)

# 1. Debian packages: Chromium for the workbench, krb5 headers for the 'kerberos' native module,
#    ripgrep to stand in for the binary @vscode/ripgrep would download from GitHub.
need=()
for p in chromium libkrb5-dev ripgrep python3 make g++; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need[@]}"
fi

# 2. Seed @vscode/ripgrep's download cache so its postinstall never goes to GitHub.
RG_PKG_VERSION=1.15.11; RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
RG_CACHE="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-$RG_PKG_VERSION"
if [ ! -s "$RG_CACHE/$RG_ASSET" ]; then
  mkdir -p "$RG_CACHE"; t=$(mktemp -d); cp "$(command -v rg)" "$t/rg"
  tar czf "$RG_CACHE/$RG_ASSET" -C "$t" rg; rm -rf "$t"
fi

# 3. code-server from npm. Its postinstall runs 'npm install' in lib/vscode (native modules built
#    with node-gyp against /usr headers). node-pty's post-install uses 'npx node-gyp', which needs
#    npm_config_yes=true on machines whose npm config says yes=false.
mkdir -p "$DIR"; cd "$DIR"
[ -f package.json ] || echo '{"name":"code-server-host","private":true}' > package.json
if [ ! -x node_modules/.bin/code-server ]; then
  npm_config_yes=true npm install --no-audit --no-fund --unsafe-perm --foreground-scripts "code-server@$CS_VERSION"
fi
node_modules/.bin/code-server --version
