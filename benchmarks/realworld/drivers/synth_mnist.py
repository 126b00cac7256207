"""A seeded synthetic MNIST: 10 fixed 28x28 templates plus noise; learnable, no download.

Stands in for torchvision.datasets.MNIST in the real-world training runs; it is
converted by ms-migrate together with the script that uses it.
"""
import numpy as np
import torch
from torch.utils.data import Dataset


class SyntheticMNIST(Dataset):
    def __init__(self, train=True, size=None, seed=0):
        size = size or (1000 if train else 200)
        rng = np.random.RandomState(seed)
        templates = rng.rand(10, 1, 28, 28).astype(np.float32)
        rng = np.random.RandomState(seed + (1 if train else 2))
        self.labels = rng.randint(0, 10, size=size).astype(np.int64)
        noise = rng.rand(size, 1, 28, 28).astype(np.float32)
        self.images = 0.5 * templates[self.labels] + 0.5 * noise

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return torch.from_numpy(self.images[index]), int(self.labels[index])
