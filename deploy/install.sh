#!/usr/bin/env bash
# Set up platewatch in a virtual environment at ./.venv (or $PLATEWATCH_VENV).
#   bash deploy/install.sh            # the service
#   bash deploy/install.sh --test     # plus what the tests need: test tools, the optional
#                                     # EasyOCR backend, and (as root) Debian packages for a
#                                     # real RTSP server, a real browser, MQTT and promtool
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${PLATEWATCH_VENV:-.venv}
python=${PYTHON:-python3}
mode=${1:-}
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ "$mode" = "--test" ]; then
  apt_packages=(
    # a real RTSP server (GStreamer's, driven by Debian's python3 with GObject introspection)
    python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad
    gstreamer1.0-libav
    # a real browser for the web page tests; the MQTT broker; promtool for the alert rules
    chromium mosquitto prometheus
  )
  missing=()
  for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -q
      apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
      echo "warning: Debian packages missing (tests that need them will skip): ${missing[*]}" >&2
    fi
  fi
fi

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "platewatch needs Python 3.11 or newer; $python is $("$python" --version 2>&1)" >&2
  exit 1
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip="$venv/bin/python -m pip"
$pip install -q --upgrade pip
extras=""
if [ "$mode" = "--test" ]; then extras="[test,easyocr]"; fi
$pip install -q -e ".$extras"
# rapidocr-onnxruntime ships the offline PP-OCR weights; it declares opencv-python, which
# would install a second OpenCV over opencv-python-headless, so its own needs come from
# pyproject.toml and it is installed without them.
$pip install -q --no-deps rapidocr-onnxruntime==1.4.4
# Exactly one OpenCV: 4.x headless, which still has the Haar cascades.
if $pip show -q opencv-python >/dev/null 2>&1; then
  $pip uninstall -q -y opencv-python
  $pip install -q --force-reinstall --no-deps opencv-python-headless==4.14.0.94
fi
"$venv/bin/python" -c 'import cv2, sys; sys.exit(0 if cv2.__version__.startswith("4.") else "OpenCV 4.x expected, got " + cv2.__version__)'
touch "$venv/.installed${mode:+-test}"
echo "platewatch installed in $venv: $venv/bin/platewatch --help"
