#!/usr/bin/env bash
# The GPU figures of docs/benchmarks.md in one command: training s/iter
# (phase split, samples/s, GPU-busy fraction, host syncs, peak memory) of
# the R50 KITTI-STEP and VIPSeg configs at their real crop sizes and
# inference fps of KITTI-STEP 384x1248, VIPSeg 720x1280 and YouTube-VIS
# 360x640, each in float32 and with --amp; one JSON + one log per run
# under $OUT, then a summary table ($OUT/summary.md).
#
# On a GPU machine without network (../shared/gpu/README.md), from the
# project root:
#     bash ../shared/gpu/prepare.sh        # here, once: fills .gpu/
#     OUT=/some/dir bash .gpu/check.sh 'bash tools/analysis_tools/gpu_benchmarks.sh'
# With a ready CUDA environment:
#     OUT=/some/dir PYTHON=.venv/bin/python bash tools/analysis_tools/gpu_benchmarks.sh
#
# Environment: OUT (default /tmp/gpu-out), PYTHON (default python3),
# ITERS (timed training iterations, default 20), WARMUP (default 3),
# FRAMES (inference frames per pass, default 10), STEP_TIMEOUT (seconds
# per run, default 300), ONLY (a substring: run only the steps whose name
# contains it), DEVICE (default cuda; cpu for a dry run of the script),
# WORKERS (training dataloader workers; default: the configs' 2).
set -u
fail() {  # fail STATUS MESSAGE: one error line, exit
  echo "error: $2" >&2
  exit "$1"
}
[ $# -eq 0 ] || fail 2 "gpu_benchmarks.sh takes no arguments, got '$1' (settings come from the environment: OUT, PYTHON, ITERS, WARMUP, FRAMES, STEP_TIMEOUT, ONLY, DEVICE, WORKERS)"
OUT="${OUT:-/tmp/gpu-out}"
PY="${PYTHON:-python3}"
ITERS="${ITERS:-20}"
WARMUP="${WARMUP:-3}"
FRAMES="${FRAMES:-10}"
DEVICE="${DEVICE:-cuda}"
STEP_TIMEOUT="${STEP_TIMEOUT:-300}"
ONLY="${ONLY:-}"
# checked here: each run would otherwise fail on its own, after minutes
positive() {  # positive NAME VALUE [MIN]: an integer >= MIN (default 1)
  [[ "$2" =~ ^[0-9]{1,7}$ ]] && [ "$2" -ge "${3:-1}" ] && [ "$2" -le 1000000 ] ||
    fail 2 "$1: expected an integer >= ${3:-1}, got '$2'"
}
positive ITERS "$ITERS"
positive WARMUP "$WARMUP" 0
positive FRAMES "$FRAMES"
positive STEP_TIMEOUT "$STEP_TIMEOUT"
WORKERS_ARG=()
if [ -n "${WORKERS:-}" ]; then
  positive WORKERS "$WORKERS" 0
  WORKERS_ARG=(--workers "$WORKERS")
fi
case "$DEVICE" in
  cuda|cpu) ;;
  *) fail 2 "DEVICE: expected cuda or cpu, got '$DEVICE'" ;;
esac
command -v "$PY" > /dev/null 2>&1 ||
  fail 1 "PYTHON: no such interpreter '$PY' (set PYTHON, e.g. PYTHON=.venv/bin/python)"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac  # the steps run in the repo
[ ! -e "$OUT" ] || [ -d "$OUT" ] || fail 1 "OUT $OUT: is a file, expected a folder"
mkdir -p "$OUT" 2> /dev/null || fail 1 "OUT $OUT: cannot create the folder"
[ -w "$OUT" ] || fail 1 "OUT $OUT: not writable"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

KITTI=configs/video_knet_kitti.py
VIPSEG=configs/video_knet_vps/video_knet_s3_r50_vipseg.py
VIS=configs/video_knet_vis/video_knet_vis_r50_1x_youtube-vis-2019.py
T0=$(date +%s)
failed=0

ran=0
run() {  # run NAME ARGS...: python ARGS, log to $OUT/NAME.log
  local name=$1
  shift
  if [ -n "$ONLY" ] && [[ "$name" != *"$ONLY"* ]]; then
    return 0
  fi
  ran=$((ran + 1))
  echo "[gpu_benchmarks t+$(( $(date +%s) - T0 ))s] $name"
  if ! timeout "$STEP_TIMEOUT" "$PY" "$@" > "$OUT/$name.log" 2>&1; then
    echo "[gpu_benchmarks] FAILED: $name (see $OUT/$name.log)"
    tail -n 15 "$OUT/$name.log"
    failed=$((failed + 1))
  fi
}

"$PY" - "$DEVICE" <<'PYEOF' || exit 1
import sys
try:
    import torch
except ImportError as e:
    sys.exit(f'error: PYTHON {sys.executable}: cannot import torch ({e})')
if sys.argv[1] == 'cuda':
    if not torch.cuda.is_available():
        sys.exit('error: DEVICE cuda: no CUDA device visible '
                 '(DEVICE=cpu for a dry run of the script)')
    print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(),
          'bf16' if torch.cuda.is_bf16_supported() else 'fp16')
PYEOF

# 0. the batched assignment / target building and AMP on the GPU
run tests -m pytest -q -p no:cacheprovider \
  tests/models/test_batched_assignment.py tests/engine/test_amp.py

# 1. training at the configs' crop sizes (KITTI-STEP 384x1248 crops of
#    KITTI-sized frames; VIPSeg 736x736 crops of 720p frames)
for amp in "" "--amp"; do
  tag=${amp:+_amp}
  run "train_kitti$tag" tools/analysis_tools/benchmark_train.py "$KITTI" \
    --device "$DEVICE" $amp --iters "$ITERS" --warmup "$WARMUP" --no-progress \
    ${WORKERS_ARG[@]+"${WORKERS_ARG[@]}"} --out "$OUT/train_kitti$tag.json"
  run "train_vipseg$tag" tools/analysis_tools/benchmark_train.py "$VIPSEG" \
    --device "$DEVICE" $amp --iters "$ITERS" --warmup "$WARMUP" --no-progress \
    --data-size 720 1280 ${WORKERS_ARG[@]+"${WORKERS_ARG[@]}"} --out "$OUT/train_vipseg$tag.json"
done

# 2. online inference (random weights, seeded)
for amp in "" "--amp"; do
  tag=${amp:+_amp}
  run "infer_kitti$tag" tools/analysis_tools/benchmark.py "$KITTI" \
    --shape 384 1248 --device "$DEVICE" --frames "$FRAMES" --repeat 3 \
    --warmup 2 $amp --out "$OUT/infer_kitti$tag.json"
  run "infer_vipseg$tag" tools/analysis_tools/benchmark.py "$VIPSEG" \
    --shape 720 1280 --device "$DEVICE" --frames "$FRAMES" --repeat 3 \
    --warmup 2 $amp --out "$OUT/infer_vipseg$tag.json"
  run "infer_vis$tag" tools/analysis_tools/benchmark.py "$VIS" \
    --shape 360 640 --device "$DEVICE" --frames "$FRAMES" --repeat 3 \
    --warmup 2 $amp --out "$OUT/infer_vis$tag.json"
done

if [ "$ran" -eq 0 ]; then
  fail 2 "ONLY: '$ONLY' matches no step (tests, train_kitti, train_vipseg, infer_kitti, infer_vipseg, infer_vis, each also _amp)"
fi

# 3. one table of everything that ran
"$PY" - "$OUT" <<'PYEOF' | tee "$OUT/summary.md"
import glob, json, os, sys
out = sys.argv[1]
rows = []
for path in sorted(glob.glob(os.path.join(out, 'train_*.json'))):
    r = json.load(open(path))
    m, busy = r['split']['mean_s'], r.get('gpu_busy') or {}
    frac = busy.get('fraction')
    busy_text = '-' if frac is None else f'{100 * frac:.0f} %'
    phases = ' / '.join(f'{1e3 * m[k]:.1f}' for k in (
        'data', 'preprocess', 'forward', 'targets', 'assign', 'losses',
        'backward', 'optimizer'))
    rows.append(
        f"| {os.path.basename(path)[:-5]} | {r.get('amp_dtype') or 'fp32'} "
        f"| {1e3 * r['s_per_iter']:.1f} ms | {r['samples_per_s']:.2f} | "
        f"{busy_text} | "
        f"{(r.get('host_syncs') or {}).get('per_iter', '-')} | "
        f"{r['peak_memory_mb']:.0f} MiB | {phases} |")
print('| training | precision | s/iter (CUDA: free running) | samples/s | GPU busy '
      '| host syncs/iter | peak memory | data / preprocess / forward / '
      'targets / assign / losses / backward / optimizer (ms, synced) |')
print('| --- | --- | --- | --- | --- | --- | --- | --- |')
print('\n'.join(rows))
print()
print('| inference | precision | total / frame | fps | backbone+FPN | '
      'panoptic_merge | peak memory |')
print('| --- | --- | --- | --- | --- | --- | --- |')
for path in sorted(glob.glob(os.path.join(out, 'infer_*.json'))):
    r = json.load(open(path))
    m = r['median_ms']
    print(f"| {os.path.basename(path)[:-5]} {r['shape'][0]}x{r['shape'][1]} "
          f"| {r.get('amp') or 'fp32'} | {m['total']:.1f} ms | "
          f"{m['fps']:.1f} | {m.get('backbone_fpn', 0):.1f} ms | "
          f"{m.get('panoptic_merge', 0):.1f} ms | "
          f"{r.get('peak_cuda_mb', r['peak_rss_mb']):.0f} MiB |")
PYEOF

echo "[gpu_benchmarks t+$(( $(date +%s) - T0 ))s] done, $failed failed; results in $OUT"
exit $(( failed > 0 ))
