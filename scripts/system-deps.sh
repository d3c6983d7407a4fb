#!/usr/bin/env bash
# Installs the Debian packages the gateway and its tests need, only those missing.
# Runs as root (CI) or through sudo. Safe to run again.
set -euo pipefail

PKGS=(
  ffmpeg                                   # camera ingest (frame source)
  chromium                                 # lane display tests (driven by playwright-core)
  fonts-dejavu-core                        # readable text in headless screenshots
  python3-gi gir1.2-gst-rtsp-server-1.0    # real RTSP server for integration tests
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools
  redis-server mosquitto                   # optional at run time; tests use real servers
  systemd                                  # systemd-notify (watchdog) and systemd-analyze (unit test)
  prometheus                               # promtool (alert rule tests) and a real scrape in tests
  openssl                                  # test certificates and keys (TLS and trust tests)
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# scripts/node-lts.sh fetches the pinned Node with npm. A bare Debian has neither; a machine with
# another Node (nodesource's bundles npm) must keep it, since Debian's npm would conflict with it.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "system-deps: all present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "system-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
