#!/usr/bin/env sh
# Browser tests drive Debian's Chromium through Playwright. Install it when we can;
# say plainly when we cannot (CI must have it, so there it is an error).
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests (apt-get install chromium)..."
  (apt-get update -q && apt-get install -y -q chromium) >/tmp/crm-chromium-install.log 2>&1
  [ -x "$CHROMIUM" ] && exit 0
fi
echo "Chromium not found at $CHROMIUM and could not be installed: browser tests will be SKIPPED." >&2
echo "Install it with 'sudo apt-get install chromium' (or set CHROMIUM_PATH)." >&2
[ "${CI:-}" = "true" ] && exit 1
exit 0
