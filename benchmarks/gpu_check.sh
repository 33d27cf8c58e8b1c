#!/usr/bin/env bash
# One prepared GPU check of the CUDA paths; under 8 minutes on one H200.
#
#   bash benchmarks/gpu_check.sh            # on a machine with CUDA
#   bash benchmarks/gpu_check.sh --dry-run  # anywhere: checks the environment, records every CUDA step as
#                                           # skipped and writes the report (what tests/test_gpu_check.py runs)
#
# Steps (each under `timeout`, so one that hangs cannot eat the budget; each recorded as ok/failed/timed out with
# its figures and the tail of its log):
#   env          python, torch, CUDA device, the package importable from this checkout
#   gpu_tests    pytest -m gpu (bf16 autocast, channels-last, torch.compile training; CUDA model and landscape tests)
#   bench_train  benchmarks/run.py --only train --json: ours vs plain DARTS on CUDA (goal: >= 2x)
#   landscape    a 1-epoch CUDA training run, then `cellnas landscape --gradvar` (3x3 grid, 48 images; the CPU side
#                of per-sample gradients is the slow part) on CUDA and on the CPU on copies
#                of the same run: the grids must agree (loss rel 1e-2, gradient variance rel 5e-2)
#   nccl         torchrun --standalone --nproc_per_node 1 benchmarks/nccl_smoke.py: an NCCL group, all_reduce,
#                a DDP step, the trainer inside the group; then the same `cellnas train` line under torchrun
#
# Output: one JSON report, $OUT/gpu_check.json if $OUT is set, else benchmarks/gpu_check.json (override with
# GPU_CHECK_JSON). Python: $PYTHON, else python3; the package runs from this checkout (PYTHONPATH), nothing is
# installed or downloaded. Exit status 0 if every step that ran passed.
set -u -o pipefail

DRY_RUN=0
[[ "${1:-}" == "--dry-run" ]] && DRY_RUN=1

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO" || exit 2
PY="${PYTHON:-python3}"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1 HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}" MPLBACKEND=Agg
if [[ -n "${OUT:-}" ]]; then DEFAULT_JSON="$OUT/gpu_check.json"; else DEFAULT_JSON="$REPO/benchmarks/gpu_check.json"; fi
REPORT="${GPU_CHECK_JSON:-$DEFAULT_JSON}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
STEPS="$WORK/steps"
mkdir -p "$STEPS"
HELPER=("$PY" "$REPO/benchmarks/gpu_check_report.py")
START=$SECONDS
BUDGET="${GPU_CHECK_BUDGET:-460}"   # seconds for all steps together (the machine allows 8 minutes)

log() { printf '[gpu_check %4ds] %s\n' "$((SECONDS - START))" "$*" >&2; }

# step_timeout WANTED: WANTED seconds, or what is left of the budget (at least 10)
step_timeout() {
  local left=$((BUDGET - (SECONDS - START)))
  ((left < 10)) && left=10
  ((left < $1)) && echo "$left" || echo "$1"
}

# record NAME RC SECONDS LOG [FIGURES_FILE] [SKIP_REASON]
record() {
  local args=(step "$STEPS" "$1" "$2" "$3" "$4")
  [[ -n "${5:-}" && -f "${5:-}" ]] && args+=(--figures "$5")
  [[ -n "${6:-}" ]] && args+=(--skipped "$6")
  "${HELPER[@]}" "${args[@]}" || log "could not record step $1"
  if [[ -n "${6:-}" ]]; then log "$1: skipped ($6)"; elif [[ "$2" == 0 ]]; then log "$1: ok ($3 s)";
  else log "$1: FAILED rc=$2 ($3 s; log tail in the report)"; fi
}

# run_step NAME WANTED_SECONDS CMD...: run under timeout, log to $WORK/NAME.log, sets STEP_RC and STEP_SECONDS
run_step() {
  local name=$1 wanted=$2
  shift 2
  local limit t0
  limit=$(step_timeout "$wanted")
  log "$name: start (timeout ${limit}s)"
  t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@" >"$WORK/$name.log" 2>&1
  STEP_RC=$?
  STEP_SECONDS=$((SECONDS - t0))
}

# -- env ------------------------------------------------------------------------------------------------------------
run_step env 60 "$PY" - <<'EOF'
import json, platform, subprocess, sys
figures = {"python": platform.python_version(), "executable": sys.executable}
missing = []
for name in ("torch", "numpy", "matplotlib", "tqdm", "PIL", "pytest", "hypothesis"):
    try:
        module = __import__(name)
        figures[f"{name}_version"] = getattr(module, "__version__", "?")
    except Exception as exc:  # noqa: BLE001 - recorded, not raised
        missing.append(f"{name} ({type(exc).__name__}: {exc})")
figures["missing"] = missing
try:
    import torch
    figures["cuda_available"] = torch.cuda.is_available()
    figures["torch_cuda"] = torch.version.cuda
    if torch.cuda.is_available():
        figures["device"] = torch.cuda.get_device_name(0)
        figures["device_count"] = torch.cuda.device_count()
        figures["bf16_supported"] = torch.cuda.is_bf16_supported()
        figures["nccl_available"] = torch.distributed.is_nccl_available()
        figures["nccl_version"] = ".".join(map(str, torch.cuda.nccl.version()))
except Exception as exc:  # noqa: BLE001
    figures["torch_error"] = f"{type(exc).__name__}: {exc}"
try:
    import cellnas_edu
    figures["cellnas_edu"] = cellnas_edu.__version__
except Exception as exc:  # noqa: BLE001
    missing.append(f"cellnas_edu ({type(exc).__name__}: {exc})")
try:
    figures["nvidia_smi"] = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                                            "--format=csv,noheader"], capture_output=True, text=True,
                                           timeout=20).stdout.strip()
except Exception as exc:  # noqa: BLE001
    figures["nvidia_smi"] = f"unavailable ({type(exc).__name__})"
print(json.dumps(figures))
sys.exit(1 if any(m.split()[0] in ("torch", "numpy", "cellnas_edu") for m in missing) else 0)
EOF
tail -n 1 "$WORK/env.log" >"$WORK/env.json" 2>/dev/null
record env "$STEP_RC" "$STEP_SECONDS" "$WORK/env.log" "$WORK/env.json"
CUDA_OK=0
grep -q '"cuda_available": true' "$WORK/env.json" 2>/dev/null && CUDA_OK=1

SKIP=""
if ((DRY_RUN)); then SKIP="dry run";
elif [[ "$STEP_RC" != 0 ]]; then SKIP="the environment is broken (see the env step)";
elif ((!CUDA_OK)); then SKIP="no CUDA device (see the env step)"; fi

# -- gpu-marked tests -----------------------------------------------------------------------------------------------
if [[ -n "$SKIP" ]]; then
  record gpu_tests 0 0 /dev/null "" "$SKIP"
else
  run_step gpu_tests 150 "$PY" -m pytest -m gpu -q -p no:cacheprovider -o addopts="" -rfEs tests/
  "${HELPER[@]}" pytest-figures "$WORK/gpu_tests.log" >"$WORK/gpu_tests.json" 2>/dev/null
  record gpu_tests "$STEP_RC" "$STEP_SECONDS" "$WORK/gpu_tests.log" "$WORK/gpu_tests.json"
fi

# -- training throughput: ours vs plain -------------------------------------------------------------------------------
if [[ -n "$SKIP" ]]; then
  record bench_train 0 0 /dev/null "" "$SKIP"
else
  run_step bench_train 200 bash -c "'$PY' benchmarks/run.py --only train --device cuda --json >'$WORK/bench.json'"
  "${HELPER[@]}" bench-figures "$WORK/bench.json" >"$WORK/bench_train.json" 2>>"$WORK/bench_train.log"
  record bench_train "$STEP_RC" "$STEP_SECONDS" "$WORK/bench_train.log" "$WORK/bench_train.json"
fi

# -- landscape and gradient variance: CUDA against the CPU on the same run -------------------------------------------
if [[ -n "$SKIP" ]]; then
  record landscape 0 0 /dev/null "" "$SKIP"
else
  L="$WORK/landscape"
  run_step landscape 150 bash -c "
    set -eo pipefail
    '$PY' -m cellnas_edu train --arch DARTS --dataset synthetic --preset smoke --device cuda --epochs 1 \
      --out '$L/run' --no-progress
    cp -r '$L/run' '$L/run_cpu'
    cp -r '$L/run' '$L/run_cuda'
    '$PY' -m cellnas_edu landscape '$L/run_cuda' --steps 3 --span 0.5 --samples 48 --gradvar --chunk 16 \
      --device cuda --no-progress --json >'$L/cuda.json'
    '$PY' -m cellnas_edu landscape '$L/run_cpu' --steps 3 --span 0.5 --samples 48 --gradvar --chunk 16 \
      --device cpu --no-progress --json >'$L/cpu.json'
    '$PY' '$REPO/benchmarks/gpu_check_report.py' compare-landscapes '$L/run_cpu/landscape.npz' \
      '$L/run_cuda/landscape.npz' >'$WORK/landscape.json'
  "
  record landscape "$STEP_RC" "$STEP_SECONDS" "$WORK/landscape.log" "$WORK/landscape.json"
fi

# -- NCCL: one process under torchrun ---------------------------------------------------------------------------------
if [[ -n "$SKIP" ]]; then
  record nccl 0 0 /dev/null "" "$SKIP"
else
  N="$WORK/nccl"
  run_step nccl 90 bash -c "
    set -eo pipefail
    '$PY' -m torch.distributed.run --standalone --nproc_per_node 1 '$REPO/benchmarks/nccl_smoke.py' '$N/in-group' \
      | tail -n 1 >'$WORK/nccl.json'
    '$PY' -m torch.distributed.run --standalone --nproc_per_node 1 -m cellnas_edu.cli train --arch DARTS \
      --dataset synthetic --preset smoke --device cuda --epochs 1 --out '$N/cli' --no-progress
    grep -q '\"finished\"' '$N/cli/status.json'
  "
  record nccl "$STEP_RC" "$STEP_SECONDS" "$WORK/nccl.log" "$WORK/nccl.json"
fi

# -- one report -------------------------------------------------------------------------------------------------------
"${HELPER[@]}" assemble "$STEPS" "$REPORT"
STATUS=$?
if ((STATUS == 0)); then
  "$PY" -c "import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))['all_ok'] else 1)" "$REPORT"
  STATUS=$?
fi
log "done in $((SECONDS - START)) s; work files in $WORK"
exit "$STATUS"
