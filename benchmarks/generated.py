"""A generated PyTorch module of any size, for the large-input benchmark and tests."""


def generated_module(classes: int) -> str:
    parts = ["import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"]
    for i in range(classes):
        parts.append(f"""

class Block{i}(nn.Module):
    def __init__(self, dim={i % 7 + 1}):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        y = F.relu(self.fc(x))
        y = self.drop(self.norm(y))
        return torch.cat([x, y], dim=-1).view(x.shape[0], -1)
""")
    return "".join(parts)
