"""Train the SmallResNet classifier on synthetic images (nothing to download)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

from model import SmallResNet

NUM_CLASSES = 10


def make_data(n=320):
    """Noisy copies of one random template image per class: learnable in a few epochs."""
    templates = torch.randn(NUM_CLASSES, 3, 16, 16)
    labels = torch.randint(0, NUM_CLASSES, (n,))
    images = templates[labels] + 0.5 * torch.randn(n, 3, 16, 16)
    return images, labels


def train_one_epoch(model, loader, optimizer):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for images, labels in loader:
        optimizer.zero_grad()
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        optimizer.step()

        total_loss += loss.item() * labels.shape[0]
        correct += (logits.argmax(1) == labels).sum().item()
        seen += labels.shape[0]
    return total_loss / seen, correct / seen


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for images, labels in loader:
        logits = model(images)
        total_loss += F.cross_entropy(logits, labels).item() * labels.shape[0]
        correct += (logits.argmax(1) == labels).sum().item()
        seen += labels.shape[0]
    return total_loss / seen, correct / seen


def main(epochs=4):
    torch.manual_seed(0)
    images, labels = make_data()
    train_set = TensorDataset(images[:256], labels[:256])
    val_set = TensorDataset(images[256:], labels[256:])
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=64)

    model = SmallResNet(num_classes=NUM_CLASSES)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

    history = []
    for epoch in range(epochs):
        train_loss, train_acc = train_one_epoch(model, train_loader, optimizer)
        scheduler.step()
        val_loss, val_acc = evaluate(model, val_loader)
        history.append(train_loss)
        print(f"epoch {epoch}: train loss {train_loss:.4f} acc {train_acc:.2f} | "
              f"val loss {val_loss:.4f} acc {val_acc:.2f}")
    assert history[-1] < history[0], "the training loss did not go down"
    return history


if __name__ == "__main__":
    main()
