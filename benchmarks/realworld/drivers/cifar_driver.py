"""Trains a kuangliu/pytorch-cifar model a few steps on seeded synthetic 32x32 images.

    python cifar_driver.py LeNet [steps] [batch]
"""
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

from models import *  # noqa: F401,F403  (the repository's model zoo)

torch.manual_seed(0)
name = sys.argv[1] if len(sys.argv) > 1 else "LeNet"
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 16

rng = np.random.RandomState(0)
templates = rng.randn(10, 3, 32, 32).astype(np.float32)
labels = rng.randint(0, 10, size=steps * batch).astype(np.int64)
images = templates[labels] + 0.5 * rng.randn(steps * batch, 3, 32, 32).astype(np.float32)

net = globals()[name]()
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(net.parameters(), lr=1e-3)
net.train()
for step in range(steps):
    inputs = torch.tensor(images[step * batch:(step + 1) * batch])
    targets = torch.tensor(labels[step * batch:(step + 1) * batch])
    optimizer.zero_grad()
    outputs = net(inputs)
    loss = criterion(outputs, targets)
    loss.backward()
    optimizer.step()
    print("step %d loss %.4f" % (step, loss.item()))
