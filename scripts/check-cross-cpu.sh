#!/usr/bin/env bash
# Do the pinned ci numerics (helpers/repro.py) give the same bits on other CPUs? Trains a small MLP (Adam), a
# CNN with BatchNorm (SGD) and an LSTM (Adam) through `setup(..., "ci")` and prints a hash of each model's
# weights: natively, then under QEMU's user-mode emulation of other processors (Intel Haswell: AVX2 only;
# AMD EPYC: AVX2, AMD's vendor string; Intel Skylake-Server: AVX-512). All lines must be equal.
# Needs `apt-get install qemu-user` (not part of CI: each emulated run takes minutes). Usage: scripts/check-cross-cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
base=$(python -c 'import sys; print(sys._base_executable)')
site=$(python -c 'import site; print(site.getsitepackages()[0])')
echo "native ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)): $(python tests/scripts/cross_cpu_probe.py)"
for cpu in Haswell EPYC Skylake-Server; do
  echo "qemu -cpu $cpu: $(PYTHONPATH="$site:$PWD" qemu-x86_64 -cpu "$cpu" "$base" tests/scripts/cross_cpu_probe.py 2>/dev/null)"
done
