#!/usr/bin/env bash
# Create .venv/ at the repository root and install the pinned OpenMMLab stack.
#
# mmcv 2.1.0 publishes no wheel for torch 2.13, so it is built from source with
# its compiled CPU (and, with a CUDA torch, CUDA) ops. The built wheel is cached
# outside the repository, keyed by Python, torch and CUDA versions, so a second
# setup (or a fresh clone on the same machine) takes seconds.
#
# GPU users: install a CUDA build of torch into .venv first
#   python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 --index-url <CUDA wheel index>
# then run `make setup`; the existing torch is kept and mmcv is built with CUDA ops.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
CACHE_ROOT="${VIDEO_KNET_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/video-knet/wheels}"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"
MMCV_VERSION="2.1.0"

log() { printf '[setup] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

if ! "$PY" -c "import torch" 2>/dev/null; then
    log "installing torch==$TORCH_VERSION"
    "${PIP[@]}" install "torch==$TORCH_VERSION"
fi
"${PIP[@]}" install -q "setuptools<70" wheel "numpy>=1.24"

TAG="$("$PY" -c 'import sys, torch; v = sys.version_info; tv = torch.__version__.split("+")[0]; cu = torch.version.cuda or "cpu"; print("cp%d%d-torch%s-%s" % (v.major, v.minor, tv, cu))')"
CACHE="$CACHE_ROOT/$TAG"
mkdir -p "$CACHE"

if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
    WHEEL="$(ls "$CACHE"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
    if [ -z "$WHEEL" ]; then
        log "building mmcv $MMCV_VERSION with compiled ops (about 10 minutes on 2 cores); cache: $CACHE"
        BUILD="$(mktemp -d)"
        trap 'rm -rf "$BUILD"' EXIT
        FORCE_CUDA_FLAG=0
        if "$PY" -c "import torch, sys; sys.exit(0 if torch.version.cuda else 1)"; then FORCE_CUDA_FLAG=1; fi
        MMCV_WITH_OPS=1 FORCE_CUDA=$FORCE_CUDA_FLAG MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
            "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$BUILD" "mmcv==$MMCV_VERSION"
        # rename into place atomically so an interrupted build never leaves a half wheel in the cache
        for f in "$BUILD"/mmcv-*.whl; do mv "$f" "$CACHE/.$(basename "$f").tmp" && mv "$CACHE/.$(basename "$f").tmp" "$CACHE/$(basename "$f")"; done
        WHEEL="$(ls "$CACHE"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)"
    else
        log "using cached mmcv wheel $WHEEL"
    fi
    "${PIP[@]}" install --no-deps "$WHEEL"
fi

log "installing requirements"
"${PIP[@]}" install -q -r "$ROOT/requirements.txt" -r "$ROOT/requirements/tests.txt"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"
"$PY" -c "import mmcv.ops, mmdet, knet; print('[setup] ok: mmcv', mmcv.__version__, 'mmdet', mmdet.__version__)"
