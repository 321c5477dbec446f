#!/usr/bin/env bash
# Photo pipeline benchmark (release build): the host pipeline against vipsthumbnail on a
# 12-megapixel JPEG, and the peak memory of four such uploads at once. Figures go to
# bench/results/photos.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-15}
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p bench/results "$TARGET/bench"

if ! command -v vipsthumbnail >/dev/null; then
  apt-get install -y -q libvips-tools >/dev/null || { apt-get update -q && apt-get install -y -q libvips-tools; }
fi
[ -x /usr/bin/time ] || apt-get install -y -q time >/dev/null || { apt-get update -q && apt-get install -y -q time; }

# A 12-megapixel (4000×3000) JPEG derived from tests/fixtures/photos/rocket.jpg: upscaled, with
# sensor-like noise so it compresses like a phone photo (about 4 MiB at quality 92), made once.
PHOTO="$TARGET/bench/photo-12mp.jpg"
if [ ! -f "$PHOTO" ]; then
  WORK=$(mktemp -d)
  vips resize tests/fixtures/photos/rocket.jpg "$WORK/up.v" 6.25 --vscale 7.0258
  vips gaussnoise "$WORK/noise.v" 4000 3000 --sigma 6 --mean 0
  vips bandjoin "$WORK/noise.v $WORK/noise.v $WORK/noise.v" "$WORK/noise3.v"
  vips add "$WORK/up.v" "$WORK/noise3.v" "$WORK/sum.v"
  vips cast "$WORK/sum.v" "$WORK/cast.v" uchar
  vips copy "$WORK/cast.v" "$PHOTO[Q=92]"
  rm -rf "$WORK"
fi

cargo build --release -q -p weatherwise --example photo_bench
BENCH="$TARGET/release/examples/photo_bench"
{
  echo "# photo benchmark $(date -u +%FT%TZ) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# $(vips --version), release build"
  "$BENCH" compare "$PHOTO" "$RUNS"
  echo
  /usr/bin/time -v "$BENCH" concurrent "$PHOTO" 4 2>"$TARGET/bench/photo-time.txt"
  echo "/usr/bin/time -v, four uploads at once: $(grep 'Maximum resident' "$TARGET/bench/photo-time.txt" | sed 's/^[[:space:]]*//')"
} | tee bench/results/photos.txt
