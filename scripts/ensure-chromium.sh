#!/usr/bin/env sh
# Browser tests drive Debian's Chromium through Playwright. Install it when we can;
# say plainly when we cannot (CI must have it, so there it is an error).
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
# The Chinese pages need a CJK font, or screenshots show boxes where the characters should be.
has_cjk_font() { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; }
[ -x "$CHROMIUM" ] && has_cjk_font && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium and a CJK font for the browser tests (apt-get install chromium fonts-noto-cjk)..."
  (apt-get update -q && apt-get install -y -q chromium fonts-noto-cjk) >/tmp/crm-chromium-install.log 2>&1
  [ -x "$CHROMIUM" ] && exit 0
fi
[ -x "$CHROMIUM" ] && { echo "No CJK font (fonts-noto-cjk): Chinese text shows as boxes in screenshots." >&2; exit 0; }
echo "Chromium not found at $CHROMIUM and could not be installed: browser tests will be SKIPPED." >&2
echo "Install it with 'sudo apt-get install chromium' (or set CHROMIUM_PATH)." >&2
[ "${CI:-}" = "true" ] && exit 1
exit 0
