"""An independent oracle for the catalog's ``pytree-mlp-sgd`` cases: a 2-3-1 tanh MLP trained by SGD on the
mean squared error, forward and backward written out by hand in NumPy float64 (no JAX, no autodiff).

Backward pass (N outputs): r = out - y; dL/dout = 2 r / N; dW2 = hᵀ dout; db2 = Σ dout; dh = dout W2ᵀ;
dpre = dh (1 - h²); dW1 = xᵀ dpre; db1 = Σ dpre. Each step: p <- p - lr dp, every parameter.
Run as a script to print the values the catalog records: ``python tests/oracles/mlp_sgd.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The catalog case's inputs (float32 values, computed here in float64).
CASES: dict[str, dict[str, Any]] = {
    "xor-three-steps": {
        "params": {"hidden": {"W": [[0.5, -0.4, 0.3], [-0.2, 0.6, 0.1]], "b": [0.0, 0.1, -0.1]},
                   "out": {"W": [[0.7], [-0.5], [0.2]], "b": [0.05]}},
        "x": [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
        "y": [[0.0], [1.0], [1.0], [0.0]],
        "lr": 0.5,
        "steps": 3,
    },
    "one-step": {
        "params": {"hidden": {"W": [[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]], "b": [0.0, 0.0, 0.0]},
                   "out": {"W": [[1.0], [1.0], [1.0]], "b": [0.0]}},
        "x": [[1.0, 2.0], [-1.0, 0.5]],
        "y": [[1.0], [-1.0]],
        "lr": 0.1,
        "steps": 1,
    },
}


def _f32(a: Any) -> np.ndarray:
    return np.asarray(np.asarray(a, np.float32), np.float64)


def train(params: dict[str, Any], x: Any, y: Any, lr: float, steps: int) -> dict[str, Any]:
    """Losses before each step, the loss after the last one and the trained parameters (float64)."""
    w1, b1 = _f32(params["hidden"]["W"]), _f32(params["hidden"]["b"])
    w2, b2 = _f32(params["out"]["W"]), _f32(params["out"]["b"])
    x, y = _f32(x), _f32(y)
    lr = float(np.float32(lr))

    def forward(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> tuple[np.ndarray, ...]:
        h = np.tanh(x @ w1 + b1)
        out = h @ w2 + b2
        return h, out, float(np.mean((out - y) ** 2))

    losses = []
    for _ in range(steps):
        h, out, loss = forward(w1, b1, w2, b2)
        losses.append(loss)
        dout = 2.0 * (out - y) / out.size
        dw2, db2 = h.T @ dout, dout.sum(axis=0)
        dpre = (dout @ w2.T) * (1.0 - h ** 2)
        dw1, db1 = x.T @ dpre, dpre.sum(axis=0)
        w1, b1, w2, b2 = w1 - lr * dw1, b1 - lr * db1, w2 - lr * dw2, b2 - lr * db2
    return {"losses": losses, "final_loss": forward(w1, b1, w2, b2)[2],
            "params": {"hidden": {"W": w1.tolist(), "b": b1.tolist()}, "out": {"W": w2.tolist(), "b": b2.tolist()}}}


def catalog_values() -> dict[str, dict[str, Any]]:
    """The oracle's values for every case in :data:`CASES`, keyed by case id."""
    return {name: train(c["params"], c["x"], c["y"], c["lr"], c["steps"]) for name, c in CASES.items()}


if __name__ == "__main__":  # pragma: no cover - a developer's printout
    import json

    print(json.dumps(catalog_values(), indent=1))
