"""Train three small models under the pinned ci numerics and print a hash of their weights.

scripts/check-cross-cpu.sh runs it natively and on emulated CPUs."""

import hashlib

import numpy as np
import torch
from torch import nn

from helpers import setup

setup("day06", "ci")


def digest(module: nn.Module) -> str:
    weights = b"".join(p.detach().numpy().tobytes() for p in module.parameters())
    return hashlib.sha256(weights).hexdigest()[:12]


torch.manual_seed(0)
x, y = torch.randn(512, 784), torch.randint(0, 10, (512,))
mlp = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
optimizer = torch.optim.Adam(mlp.parameters(), 1e-3)
for step in range(8):
    batch = slice(step * 64, step * 64 + 64)
    loss = nn.functional.cross_entropy(mlp(x[batch]), y[batch])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

torch.manual_seed(0)
cnn = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                    nn.Linear(32, 10))
optimizer = torch.optim.SGD(cnn.parameters(), 0.1, momentum=0.9)
images = torch.randn(64, 3, 32, 32)
for _ in range(3):
    loss = nn.functional.cross_entropy(cnn(images), y[:64])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

torch.manual_seed(0)
lstm = nn.LSTM(32, 64, batch_first=True)
optimizer = torch.optim.Adam(lstm.parameters(), 1e-2)
sequences = torch.randn(16, 20, 32)
for _ in range(3):
    loss = lstm(sequences)[0].pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

a = np.random.default_rng(0).standard_normal((300, 300))
numpy_digest = hashlib.sha256((a @ a.T @ a).tobytes()).hexdigest()[:12]
print(f"mlp {digest(mlp)} cnn {digest(cnn)} lstm {digest(lstm)} numpy {numpy_digest} "
      f"torch-kernels {torch.backends.cpu.get_cpu_capability()}")
