#!/usr/bin/env bash
# Opens VS Code (code-server: real VS Code 1.100.3 in the browser) on http://127.0.0.1:PORT with
# GIFT CAD installed from a freshly packaged .vsix, on FOLDER. Binds to loopback only, no password
# needed there; set GIFT_VSCODE_BIND=0.0.0.0 and a PASSWORD to listen beyond loopback.
# usage: scripts/open-vscode.sh [FOLDER] [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
FOLDER=$(realpath "${1:-.}")
PORT=${2:-8080}
BIND=${GIFT_VSCODE_BIND:-127.0.0.1}
WORK=.test-work
CS=$WORK/code-server/node_modules/.bin/code-server
[ -x "$CS" ] || bash scripts/setup-code-server.sh
npm run build --silent -- --production
npx vsce package --allow-missing-repository --skip-license --no-rewrite-relative-links -o "$WORK/gift-cad.vsix" >/dev/null
USER_DATA=$WORK/vscode-user
EXTENSIONS=$WORK/vscode-extensions
"$CS" --user-data-dir "$USER_DATA" --extensions-dir "$EXTENSIONS" --install-extension "$WORK/gift-cad.vsix" --force >/dev/null
AUTH=(--auth none)
if [ "$BIND" != "127.0.0.1" ] && [ "$BIND" != "localhost" ]; then
  [ -n "${PASSWORD:-}" ] || { echo "listening on $BIND needs a PASSWORD (code-server's token); refusing" >&2; exit 2; }
  AUTH=(--auth password)
fi
echo "VS Code with GIFT CAD: http://127.0.0.1:$PORT/?folder=$FOLDER   (Ctrl-C stops it)"
exec "$CS" "${AUTH[@]}" --bind-addr "$BIND:$PORT" --user-data-dir "$USER_DATA" --extensions-dir "$EXTENSIONS" \
  --disable-telemetry --disable-update-check --disable-workspace-trust "$FOLDER"
