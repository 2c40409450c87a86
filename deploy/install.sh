#!/usr/bin/env bash
# Set up platewatch in a virtual environment at ./.venv (or $PLATEWATCH_VENV).
#   bash deploy/install.sh            # the service
#   bash deploy/install.sh --test     # plus test tools and the optional EasyOCR backend
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${PLATEWATCH_VENV:-.venv}
python=${PYTHON:-python3}

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "platewatch needs Python 3.11 or newer; $python is $("$python" --version 2>&1)" >&2
  exit 1
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip="$venv/bin/python -m pip"
$pip install -q --upgrade pip
extras=""
if [ "${1:-}" = "--test" ]; then extras="[test,easyocr]"; fi
$pip install -q -e ".$extras"
# rapidocr-onnxruntime ships the offline PP-OCR weights; it declares opencv-python, which
# would install a second OpenCV over opencv-python-headless, so its own needs come from
# pyproject.toml and it is installed without them.
$pip install -q --no-deps rapidocr-onnxruntime==1.4.4
# Make sure exactly one OpenCV (4.x headless, which has the Haar cascades) is installed.
if $pip show -q opencv-python >/dev/null 2>&1; then
  $pip uninstall -q -y opencv-python
  $pip install -q --force-reinstall --no-deps opencv-python-headless==4.14.0.94
fi
"$venv/bin/python" -c 'import cv2, sys; sys.exit(0 if cv2.__version__.startswith("4.") else "OpenCV 4.x expected, got " + cv2.__version__)'
echo "platewatch installed in $venv: run $venv/bin/platewatch --help"
