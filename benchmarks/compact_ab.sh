#!/bin/bash
# Fit speed of two library trees side by side: Adult, default settings, 10 epochs, one
# torch thread, three alternating runs each; prints "label seconds peak_MB" per run.
#   bash benchmarks/compact_ab.sh OLD_TREE NEW_TREE     (each a checkout's root)
set -e
old=$1; new=$2
data=${DATA:-$(dirname "$0")/../../shared/datasets/adult_train.csv}
script=$(mktemp --suffix .py)
cat > "$script" <<'PY'
import resource, sys, time
import pandas as pd, torch, tabgan
torch.set_num_threads(1)
df = pd.read_csv(sys.argv[2])
t = time.perf_counter(); tabgan.Synthesizer(epochs=10, random_state=0).fit(df)
print(sys.argv[1], round(time.perf_counter() - t, 2),
      round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), flush=True)
PY
for i in 1 2 3; do
  PYTHONPATH=$old python "$script" old "$data" 2>/dev/null
  PYTHONPATH=$new python "$script" new "$data" 2>/dev/null
done
rm -f "$script"
