"""Writes a tiny seeded word corpus (train/valid/test.txt) for the language-model runs.

    python make_corpus.py OUT_DIR [train_lines]

Sentences come from a small fixed grammar, so a model can learn them. No torch.
"""
import os
import random
import sys

out = sys.argv[1]
lines = int(sys.argv[2]) if len(sys.argv) > 2 else 300
rng = random.Random(0)
subjects = ["the cat", "a dog", "the bird", "my friend", "the old man", "a child"]
verbs = ["sees", "likes", "follows", "finds", "hears", "watches"]
objects = ["the ball", "a tree", "the river", "the house", "a red car", "the moon"]
tails = ["today", "at night", "in the park", "again", "every day", "slowly"]


def sentence():
    return " ".join([rng.choice(subjects), rng.choice(verbs), rng.choice(objects), rng.choice(tails)]) + " ."


os.makedirs(out, exist_ok=True)
for name, n in (("train.txt", lines), ("valid.txt", max(lines // 10, 20)), ("test.txt", max(lines // 10, 20))):
    with open(os.path.join(out, name), "w") as f:
        for _ in range(n):
            f.write(sentence() + "\n")
