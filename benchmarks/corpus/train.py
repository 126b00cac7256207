"""Training script: data, model, optimizer, scheduler, checkpoints, evaluation."""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, Dataset, random_split


class RandomImages(Dataset):
    """Synthetic images with labels, standing in for a real dataset."""

    def __init__(self, size=512, num_classes=10, seed=0):
        rng = np.random.default_rng(seed)
        self.images = rng.standard_normal((size, 3, 32, 32)).astype(np.float32)
        self.labels = rng.integers(0, num_classes, size)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return torch.from_numpy(self.images[index]), int(self.labels[index])


class SmallNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 8 * 8, 256),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(256, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def parse_args():
    parser = argparse.ArgumentParser(description="train a small CNN")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--out", default="checkpoints")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def train_one_epoch(model, loader, criterion, optimizer, epoch, log_every=10):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    start = time.time()
    for step, (images, labels) in enumerate(loader):
        optimizer.zero_grad()
        outputs = model(images)
        loss = criterion(outputs, labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        optimizer.step()
        total_loss += loss.item() * images.size(0)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        seen += images.size(0)
        if step % log_every == 0:
            print(f"epoch {epoch} step {step}: loss {loss.item():.4f}")
    elapsed = time.time() - start
    return total_loss / seen, correct / seen, elapsed


@torch.no_grad()
def evaluate(model, loader, criterion):
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for images, labels in loader:
        outputs = model(images)
        total_loss += criterion(outputs, labels).item() * images.size(0)
        probs = F.softmax(outputs, dim=1)
        correct += (probs.argmax(1) == labels).sum().item()
        seen += images.size(0)
    return total_loss / seen, correct / seen


def save_checkpoint(model, optimizer, epoch, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save({"epoch": epoch, "model": model.state_dict(),
                "optimizer": optimizer.state_dict()}, path)


def load_checkpoint(model, optimizer, path):
    state = torch.load(path, map_location="cpu")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return state["epoch"]


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dataset = RandomImages()
    train_set, val_set = random_split(dataset, [448, 64])
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              num_workers=args.workers, drop_last=True)
    val_loader = DataLoader(val_set, batch_size=args.batch_size, shuffle=False)
    model = SmallNet().to(device)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    best = 0.0
    for epoch in range(args.epochs):
        loss, acc, elapsed = train_one_epoch(model, train_loader, criterion, optimizer, epoch)
        val_loss, val_acc = evaluate(model, val_loader, criterion)
        scheduler.step()
        print(f"epoch {epoch}: train {loss:.3f}/{acc:.3f} val {val_loss:.3f}/{val_acc:.3f} "
              f"({elapsed:.1f}s, lr {scheduler.get_last_lr()[0]:.2e})")
        if val_acc > best:
            best = val_acc
            save_checkpoint(model, optimizer, epoch, os.path.join(args.out, "best.pt"))


if __name__ == "__main__":
    main()
