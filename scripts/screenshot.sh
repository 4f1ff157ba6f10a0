#!/usr/bin/env bash
# Renders an HTML report (lockstep run/compare --report DIR writes DIR/report.html) to a PNG with
# headless Chromium, to look at it as a reader would.
#   scripts/screenshot.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]
# Defaults: OUT next to the report as report.png, 1280x2400.
set -euo pipefail
if [[ $# -lt 1 || $# -gt 3 ]]; then
  echo "usage: scripts/screenshot.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]" >&2
  exit 2
fi
report=$1
if [[ ! -f $report ]]; then
  echo "scripts/screenshot.sh: $report: no such file" >&2
  exit 2
fi
out=${2:-"${report%.html}.png"}
size=${3:-1280x2400}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z $browser ]]; then
  echo "scripts/screenshot.sh: no chromium found (apt-get install chromium)" >&2
  exit 2
fi
abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --screenshot="$out" --window-size="${size/x/,}" "file://$abs" >/dev/null 2>&1
echo "$out"
