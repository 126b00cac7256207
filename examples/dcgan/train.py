"""Train a DCGAN on synthetic blobs: two models, two optimizers, a checkpoint dict."""
import argparse
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

from models import Discriminator, Generator, weights_init


def make_images(n, rng):
    """Bright squares at random places on a dark background, in [-1, 1]."""
    images = -np.ones((n, 1, 16, 16), dtype=np.float32)
    for i in range(n):
        r, c = rng.integers(0, 10, size=2)
        images[i, 0, r:r + 6, c:c + 6] = 1.0
    return images


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--nz", type=int, default=8)
    return parser.parse_args()


def main():
    args = parse_args()
    torch.manual_seed(1)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = torch.from_numpy(make_images(256, np.random.default_rng(0)))
    loader = DataLoader(TensorDataset(data), batch_size=args.batch_size, shuffle=True)

    netG = Generator(args.nz).to(device)
    netD = Discriminator().to(device)
    netG.apply(weights_init)
    netD.apply(weights_init)

    criterion = nn.BCELoss()
    optimizerD = optim.Adam(netD.parameters(), lr=args.lr, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=args.lr, betas=(0.5, 0.999))
    schedulerG = optim.lr_scheduler.StepLR(optimizerG, step_size=2, gamma=0.5)

    d_losses = []
    for epoch in range(args.epochs):
        for i, (real,) in enumerate(loader):
            real = real.to(device)
            b = real.size(0)
            label_real = torch.ones(b, device=device)
            label_fake = torch.zeros(b, device=device)

            # (1) update D: maximise log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            noise = torch.randn(b, args.nz, 1, 1, device=device)
            fake = netG(noise)
            errD = criterion(netD(real), label_real) + criterion(netD(fake.detach()), label_fake)
            errD.backward()
            optimizerD.step()

            # (2) update G: maximise log(D(G(z)))
            netG.zero_grad()
            errG = criterion(netD(fake), label_real)
            errG.backward()
            optimizerG.step()
            d_losses.append(errD.item())
        schedulerG.step()
        print(f"epoch {epoch}: loss_D {np.mean(d_losses[-8:]):.3f} lr_G {schedulerG.get_last_lr()[0]:.5f}")

    folder = tempfile.mkdtemp()
    torch.save(netG.state_dict(), os.path.join(folder, "generator.pt"))
    torch.save(netD.state_dict(), os.path.join(folder, "discriminator.pt"))
    netG.load_state_dict(torch.load(os.path.join(folder, "generator.pt")))
    assert np.isfinite(d_losses).all()
    assert np.mean(d_losses[-8:]) < np.mean(d_losses[:8]) + 0.5, "discriminator diverged"


if __name__ == "__main__":
    main()
