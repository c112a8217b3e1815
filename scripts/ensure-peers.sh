#!/usr/bin/env bash
# Makes sure the real RTSP peers the interop tests and benchmarks use are installed
# (see shared INTEROP.md). Silent when everything is there. As root it installs what is
# missing with apt-get; otherwise it prints the command to run and exits 1.
set -euo pipefail

PACKAGES=(ffmpeg gstreamer1.0-tools gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  openssl bsdutils chromium stress-ng tinyproxy-bin)
ELEMENTS=(x264enc avenc_aac rtph264pay rtpmp4gpay rtspsrc rtph264depay)

missing() {
  local m=()
  local tool
  # openssl makes the TLS tests' certificates; script(1) gives the CLI a terminal.
  # chromium runs the browser tests (playwright-core drives it); stress-ng loads the machine
  # for npm run test:stress; tinyproxy is a real HTTP proxy for the tunnel tests.
  for tool in ffmpeg ffprobe gst-launch-1.0 gst-inspect-1.0 openssl script chromium stress-ng tinyproxy; do
    command -v "$tool" >/dev/null 2>&1 || m+=("$tool")
  done
  if ! /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer","1.0"); from gi.repository import GstRtspServer' >/dev/null 2>&1; then
    m+=("python3-gi/GstRtspServer")
  fi
  if command -v gst-inspect-1.0 >/dev/null 2>&1; then
    local el
    for el in "${ELEMENTS[@]}"; do
      gst-inspect-1.0 "$el" >/dev/null 2>&1 || m+=("gst:$el")
    done
  fi
  echo "${m[*]:-}"
}

need=$(missing)
[[ -z "$need" ]] && exit 0

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${PACKAGES[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-peers: missing: $need" >&2
  echo "ensure-peers: run as root:  $cmd" >&2
  exit 1
fi

echo "ensure-peers: missing: $need; installing with apt-get" >&2
apt-get update >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y "${PACKAGES[@]}" >&2
# Freshly installed plugins must not be hidden by a stale registry cache.
rm -f "${HOME:-/root}"/.cache/gstreamer-1.0/registry.*.bin 2>/dev/null || true

need=$(missing)
if [[ -n "$need" ]]; then
  echo "ensure-peers: still missing after install: $need" >&2
  exit 1
fi
