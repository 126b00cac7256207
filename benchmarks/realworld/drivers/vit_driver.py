"""Trains a lucidrains/vit-pytorch model (einops throughout) a few steps on seeded
synthetic 16x16 images.

    python vit_driver.py ViT|SimpleViT [steps] [batch]
"""
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

from simple_vit import SimpleViT
from vit import ViT

torch.manual_seed(0)
name = sys.argv[1] if len(sys.argv) > 1 else "ViT"
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 16

rng = np.random.RandomState(0)
templates = rng.randn(4, 3, 16, 16).astype(np.float32)
labels = rng.randint(0, 4, size=steps * batch).astype(np.int64)
images = templates[labels] + 0.5 * rng.randn(steps * batch, 3, 16, 16).astype(np.float32)

net = {"ViT": ViT, "SimpleViT": SimpleViT}[name](
    image_size=16, patch_size=4, num_classes=4, dim=32, depth=2, heads=4, mlp_dim=64, dim_head=8)
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
