"""A Syne Tune training script: a torch MLP on scikit-learn's digits, reporting each epoch.

Syne Tune's local backend runs it with the config as command-line arguments (and
``--st_checkpoint_dir``, which every local-backend script must accept).
"""

import argparse

import numpy as np
import torch
from sklearn.datasets import load_digits
from syne_tune import Reporter

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--hidden", type=int, required=True)
parser.add_argument("--dropout", type=float, required=True)
parser.add_argument("--activation", required=True)
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--st_checkpoint_dir", default=None)
args, _ = parser.parse_known_args()

torch.manual_seed(0)
torch.set_num_threads(1)
x, y = load_digits(return_X_y=True)
x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
order = np.random.default_rng(0).permutation(len(y))
train, val = order[:1200], order[1200:]
activation = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU}[args.activation]
model = torch.nn.Sequential(
    torch.nn.Linear(64, args.hidden), activation(), torch.nn.Dropout(args.dropout), torch.nn.Linear(args.hidden, 10)
)
optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
report = Reporter()
for epoch in range(1, args.epochs + 1):
    model.train()
    for batch in np.array_split(train, len(train) // 64):
        loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = float((model(x[val]).argmax(1) == y[val]).float().mean())
    report(epoch=epoch, validation_accuracy=accuracy)
