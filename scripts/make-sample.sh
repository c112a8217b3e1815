#!/usr/bin/env bash
# Generates assets/sample.mp4, the clip `rtspkit demo` serves: 10 s of a synthetic test
# pattern (H.264 Constrained Baseline, 320x240, 25 fps, one key frame a second, no B-frames)
# with a 440 Hz tone (AAC-LC 44.1 kHz mono). Run once; the output is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
ffmpeg -v error -y \
  -f lavfi -i "testsrc2=size=320x240:rate=25:duration=10" \
  -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=10" \
  -c:v libx264 -profile:v baseline -preset veryslow -crf 32 -g 25 -keyint_min 25 -sc_threshold 0 -bf 0 -pix_fmt yuv420p \
  -x264-params "nal-hrd=none" \
  -c:a aac -b:a 48k -ac 1 \
  -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
  -movflags +faststart \
  assets/sample.mp4
ls -l assets/sample.mp4
