#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (test/ChatStore.Browser.Tests drive it through
# Playwright with ExecutablePath=/usr/bin/chromium; Playwright's own browser download is never used).
# Does nothing when /usr/bin/chromium exists.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "[test] installing chromium for the browser tests"
# Another apt run (a parallel setup) holds the lock for a while: wait for it rather than fail.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  if $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
    exit 0
  fi
  echo "[test] apt is busy or failed (attempt $attempt); retrying in 15 s" >&2
  sleep 15
done
echo "[test] could not install chromium with apt-get; install the 'chromium' package and run the tests again" >&2
exit 1
