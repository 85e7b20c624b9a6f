#!/usr/bin/env bash
# Trains this experiment with torchrun: NPROC_PER_NODE processes on this node (CPUs: gloo; GPUs: NCCL), every
# argument passed to train.py, e.g.
#
#   bash launch.sh --zero1 --steps 200 --out RUNS_DIR
#   NNODES=2 NODE_RANK=0 RDZV_ENDPOINT=head:29500 bash launch.sh --fsdp --precision bf16      (on each node; see README.md)
#
# PYTHON picks the interpreter that has torch (default: python3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
nodes=(--standalone)
if [ -n "${NNODES:-}" ] && [ "${NNODES}" != 1 ]; then
  nodes=(--nnodes="$NNODES" --node_rank="${NODE_RANK:?set NODE_RANK (0 … NNODES-1) on each node}" --rdzv_backend=c10d --rdzv_endpoint="${RDZV_ENDPOINT:?set RDZV_ENDPOINT to host:port of node 0}" --rdzv_id="${RDZV_ID:-workbench}")
fi
# --redirects/--tee 2: each rank's stderr to a log file and to this console, prefixed by its rank. Said explicitly
# because torch 1.13's parser of their default ("0") returns nothing under Python 3.11 (Debian's python3-torch).
exec "${PYTHON:-python3}" -m torch.distributed.run "${nodes[@]}" --nproc_per_node="${NPROC_PER_NODE:-1}" --redirects 2 --tee 2 "$here/train.py" "$@"
