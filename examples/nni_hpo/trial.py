"""One NNI HPO trial: a torch MLP on scikit-learn's digits with the tuner's hyperparameters."""

import os

os.environ.setdefault("NNI_FRAMEWORK", "none")

import nni  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

params = nni.get_next_parameter()
torch.manual_seed(0)
torch.set_num_threads(1)
x, y = load_digits(return_X_y=True)
x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
order = np.random.default_rng(0).permutation(len(y))
train, val = order[:1200], order[1200:]
activation = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU}[params["activation"]]
model = torch.nn.Sequential(
    torch.nn.Linear(64, params["hidden"]), activation(), torch.nn.Dropout(params["dropout"]), torch.nn.Linear(params["hidden"], 10)
)
optimizer = torch.optim.Adam(model.parameters(), lr=params["lr"])
for _ in range(int(os.environ.get("DIGITS_EPOCHS", "3"))):
    model.train()
    for batch in np.array_split(train, max(1, len(train) // int(params["batch_size"]))):
        loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
model.eval()
with torch.no_grad():
    nni.report_final_result(float((model(x[val]).argmax(1) == y[val]).float().mean()))
