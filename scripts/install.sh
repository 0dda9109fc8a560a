#!/usr/bin/env bash
# Install wkmp-ai on Debian as root: system libraries, a virtualenv in .venv, the package.
#   bash scripts/install.sh          # the service
#   bash scripts/install.sh --test   # plus what the tests need (fpcalc, chromium, test extras)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# libswresample4: the resampler fpcalc uses, so that fingerprints are fpcalc's bit for bit (docs/audio.md)
# gcc, libc6-dev: our C kernels (src/wkmp_ai/audio/native/*.c; NumPy and SciPy are used without them)
# lib{avformat,avcodec,avutil,swresample}-dev: our C decoder over the system's FFmpeg (PyAV's loop without it)
packages=(python3 python3-venv python3-pip ca-certificates libchromaprint1 libswresample4 gcc libc6-dev
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev)
# vorbis-tools: libvorbis's own decoder (oggdec), the reference for Ogg Vorbis files FFmpeg will not open whole
[ "$want_test" = 1 ] && packages+=(libchromaprint-tools chromium vorbis-tools)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$want_test" = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
else
  .venv/bin/python -m pip install -q -e .
fi
# Our modules' bytecode, made once: pip does not compile an editable install, and where
# PYTHONDONTWRITEBYTECODE is set (containers often set it) Python would compile every module again
# at every start: ~0.06 s of CPU for `wkmp-ai analyze`, ~0.1 s for `wkmp-ai import` (docs/audio.md).
.venv/bin/python -m compileall -q src/wkmp_ai

# Our C kernels (src/wkmp_ai/audio/kernels.py; docs/audio.md, "Performance and memory"): without
# them the analysis uses NumPy and SciPy, the same results ~2x slower. -O3 unrolls the filter
# sections; no -ffast-math, no fused multiply-add: the roundings stay SciPy's and NumPy's.
native=src/wkmp_ai/audio/native
rm -f "$native/_biquads.so"  # the library's name before the peaks joined the filters
if ! cc -O3 -ffp-contract=off -shared -fPIC -o "$native/_kernels.so" "$native"/*.c -lm; then
  echo "warning: the C kernels could not be built; the analysis will use NumPy and SciPy (slower)" >&2
fi
# Our decode loop over the system's FFmpeg (src/wkmp_ai/audio/avdecode.py): without it PyAV decodes.
if ! cc -O3 -ffp-contract=off -shared -fPIC -o "$native/_avdecode.so" "$native/avdecode/avdecode.c" \
  -lavformat -lavcodec -lavutil -lswresample; then
  echo "warning: the C decoder could not be built; files will be decoded with PyAV (slower)" >&2
fi
