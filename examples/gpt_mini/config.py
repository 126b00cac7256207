"""Hyper-parameters of the mini GPT, kept apart from the model as projects do."""
from dataclasses import dataclass


@dataclass
class GPTConfig:
    vocab_size: int = 64
    block_size: int = 16
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 32
    dropout: float = 0.1
    learning_rate: float = 3e-3
    weight_decay: float = 0.1
    warmup_steps: int = 5
    max_steps: int = 40
    batch_size: int = 8
