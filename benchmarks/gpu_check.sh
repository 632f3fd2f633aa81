#!/usr/bin/env bash
# One prepared GPU run (device tool): GPU tests, then the speed benchmark on CUDA.
# Installs nothing from the network: ctgan/rdt/Faker/opacus wheels travel in .whl/,
# the Adult csv in .gpu_data/. Writes logs and a short table under $OUT.
set -u
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD:/tmp/site
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
nvidia-smi -L | tee "$OUT/device.txt"
python3 -c "import torch, pandas, numpy; print('torch', torch.__version__, 'pandas', pandas.__version__, 'numpy', numpy.__version__)" | tee -a "$OUT/device.txt"
timeout 180 python3 -m pytest tests/test_gpu.py tests/test_critic.py tests/test_networks.py -q -p no:cacheprovider 2>&1 | tee "$OUT/gpu_tests.log"
timeout ${SPEED_TIMEOUT:-300} python3 benchmarks/speed.py --device cuda --epochs ${SPEED_EPOCHS:-3} --repeats ${SPEED_REPEATS:-2} \
    --precision float32,bfloat16 --data .gpu_data/adult_train.csv --json "$OUT/speed_cuda.json" 2>&1 | tee "$OUT/speed_cuda.log"
if [ -n "${QUALITY_EPOCHS:-}" ]; then
  for lib in tabgan ctgan; do
    timeout ${QUALITY_TIMEOUT:-300} python3 benchmarks/quality.py --device cuda --epochs "$QUALITY_EPOCHS" \
      --only $lib --data .gpu_data --results "$OUT" --no-evaluate 2>&1 | tail -c 2000 | tee "$OUT/quality_$lib.log"
  done
fi
if [ -f benchmarks/privacy.py ] && [ -n "${PRIVACY_ARGS:-}" ]; then
  timeout 180 python3 benchmarks/privacy.py $PRIVACY_ARGS 2>&1 | tee "$OUT/privacy_cuda.log"
fi
