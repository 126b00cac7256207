"""Trains karpathy/nanoGPT's model.py (a tiny GPTConfig) a few steps on a seeded token stream."""
import numpy as np
import torch

from model import GPT, GPTConfig

torch.manual_seed(0)
config = GPTConfig(block_size=32, vocab_size=64, n_layer=2, n_head=2, n_embd=32,
                   dropout=0.0, bias=True)
model = GPT(config)
rng = np.random.RandomState(0)
pattern = rng.randint(0, 64, size=97)
data = np.tile(pattern, 40)  # a periodic sequence: learnable
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1, betas=(0.9, 0.95))
model.train()
for step in range(40):
    ix = rng.randint(0, len(data) - 33, size=8)
    x = torch.tensor(np.stack([data[i:i + 32] for i in ix]), dtype=torch.long)
    y = torch.tensor(np.stack([data[i + 1:i + 33] for i in ix]), dtype=torch.long)
    logits, loss = model(x, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % 5 == 0 or step == 39:
        print("iter %d: loss %.4f" % (step, loss.item()))
