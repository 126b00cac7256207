"""Train the mini GPT on a synthetic copy task with a Trainer class."""
import math
import os
import tempfile

import torch
from torch.utils.data import DataLoader, Dataset

from config import GPTConfig
from model import GPT


class CopyDataset(Dataset):
    """Sequences whose second half repeats the first: learnable in a few steps."""

    def __init__(self, config, size=256, seed=0):
        torch.manual_seed(seed)
        half = config.block_size // 2 + 1
        first = torch.randint(0, config.vocab_size, (size, half))
        self.data = torch.cat([first, first], dim=1)[:, : config.block_size + 1]

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, i):
        chunk = self.data[i]
        return chunk[:-1], chunk[1:]


class Trainer:
    def __init__(self, model, config):
        self.model = model
        self.config = config
        self.optimizer = torch.optim.AdamW(model.param_groups(config.weight_decay),
                                           lr=config.learning_rate, betas=(0.9, 0.95))
        self.step = 0

    def lr_at(self, step):
        """Linear warm-up, then cosine decay: a manual schedule."""
        if step < self.config.warmup_steps:
            return self.config.learning_rate * (step + 1) / self.config.warmup_steps
        progress = (step - self.config.warmup_steps) / max(1, self.config.max_steps)
        return self.config.learning_rate * 0.5 * (1.0 + math.cos(math.pi * progress))

    def train_step(self, x, y):
        self.model.train()
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr_at(self.step)
        logits, loss = self.model(x, y)
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.step += 1
        return loss.item()

    def save(self, path):
        torch.save({"model": self.model.state_dict(), "step": self.step}, path)


def main():
    torch.manual_seed(0)
    config = GPTConfig()
    model = GPT(config)
    loader = DataLoader(CopyDataset(config), batch_size=config.batch_size, shuffle=True,
                        drop_last=True)
    trainer = Trainer(model, config)
    losses = []
    for epoch in range(2):
        for x, y in loader:
            losses.append(trainer.train_step(x, y))
            if len(losses) >= 30:
                break
    print(f"first loss {losses[0]:.3f}, last loss {losses[-1]:.3f}")
    assert losses[-1] < losses[0], "loss did not go down"
    trainer.save(os.path.join(tempfile.mkdtemp(), "gpt.ckpt"))


if __name__ == "__main__":
    main()
