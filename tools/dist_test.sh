#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT select the rendezvous.
# Without CUDA the processes use the gloo backend (CPU), so
# `tools/dist_test.sh CONFIG CKPT 2` also runs on a CPU-only machine
# (each process evaluates whole sequences).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "error: usage: $0 CONFIG CHECKPOINT GPUS [test.py args]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
# checked here: torchrun would report them with a traceback per process
[ -f "$CONFIG" ] || { echo "error: $CONFIG: no such config file" >&2; exit 1; }
[ -f "$CHECKPOINT" ] || { echo "error: $CHECKPOINT: no such checkpoint" >&2; exit 1; }
[[ "$GPUS" =~ ^[1-9][0-9]*$ ]] || { echo "error: GPUS: expected a positive integer, got '$GPUS'" >&2; exit 2; }
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -le 65535 ] || { echo "error: PORT: expected a port number, got '$PORT'" >&2; exit 2; }
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-python}
if [ -x "$ROOT/.venv/bin/python" ] && [ -z "${VIRTUAL_ENV:-}" ]; then PYTHON="$ROOT/.venv/bin/python"; fi

PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$ROOT/tools/test.py" \
    "$CONFIG" "$CHECKPOINT" \
    --launcher pytorch "$@"
