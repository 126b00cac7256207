"""Trains karpathy/minGPT's mingpt/model.py (a tiny config) a few steps on a seeded token stream."""
import numpy as np
import torch

from mingpt.model import GPT

torch.manual_seed(0)
config = GPT.get_default_config()
config.model_type = None
config.n_layer, config.n_head, config.n_embd = 2, 2, 32
config.vocab_size, config.block_size = 64, 32
model = GPT(config)
rng = np.random.RandomState(0)
data = np.tile(rng.randint(0, 64, size=97), 40)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
model.train()
for step in range(40):
    ix = rng.randint(0, len(data) - 33, size=8)
    x = torch.tensor(np.stack([data[i:i + 32] for i in ix]), dtype=torch.long)
    y = torch.tensor(np.stack([data[i + 1:i + 33] for i in ix]), dtype=torch.long)
    logits, loss = model(x, y)
    model.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % 5 == 0 or step == 39:
        print("iter %d: loss %.4f" % (step, loss.item()))
