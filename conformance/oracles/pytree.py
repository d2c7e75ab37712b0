"""Oracles of the pytree patterns: JAX's pytree conventions written out in plain Python (dicts by sorted key,
lists and tuples in order, ``None`` an empty subtree, everything else a leaf), and the small models' losses
and gradients written out by hand in NumPy float64. No JAX."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["combine_add", "double_leaves", "flatten_roundtrip", "leaves", "linear_grad", "linear_sgd_step",
           "mlp_sgd", "transpose_records"]


def _leaves(tree: Any) -> list[Any]:
    if tree is None:
        return []
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in _leaves(tree[k])]
    if isinstance(tree, list | tuple):
        return [leaf for t in tree for leaf in _leaves(t)]
    return [tree]


def _map(f: Any, tree: Any, *rest: Any) -> Any:
    if tree is None:
        return None
    if isinstance(tree, dict):
        return {k: _map(f, tree[k], *(r[k] for r in rest)) for k in tree}
    if isinstance(tree, list | tuple):
        out = [_map(f, t, *(r[i] for r in rest)) for i, t in enumerate(tree)]
        return out if isinstance(tree, list) else tuple(out)
    return f(tree, *rest)


def _times_two(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return (x.astype(np.float64) * 2).astype(x.dtype) if x.dtype.kind == "f" else x * 2
    return x * 2


def double_leaves(params: Any) -> Any:
    """Every leaf times 2, structure unchanged (arrays keep their dtype; Python numbers stay Python numbers)."""
    return _map(_times_two, params)


def combine_add(tree1: Any, tree2: Any) -> Any:
    """Leaf-wise sums of two trees of the same structure."""
    return _map(lambda a, b: (np.asarray(a, np.float64) + np.asarray(b, np.float64)).astype(np.asarray(a).dtype)
                if np.asarray(a).dtype.kind == "f" else a + b, tree1, tree2)


def transpose_records(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """A list of dicts with the same keys -> a dict (keys sorted) of per-field lists."""
    return {k: [r[k] for r in records] for k in sorted(records[0])}


def leaves(tree: Any) -> list[Any]:
    """The leaves in JAX's order: lists and tuples in order, dicts by sorted key; None and () hold none."""
    return _leaves(tree)


def flatten_roundtrip(tree: Any) -> tuple[int, Any]:
    """(number of leaves, the tree itself): unflatten(treedef, leaves) rebuilds the same tree."""
    return len(_leaves(tree)), tree


def _linear_grads(params: dict[str, Any], x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    x64 = np.asarray(x, np.float64)
    r = x64 @ np.asarray(params["W"], np.float64) + float(params["b"]) - np.asarray(y, np.float64)
    return x64.T @ r / x64.shape[0], float(r.mean())


def linear_grad(params: dict[str, Any], x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The gradient of 0.5 mean((x W + b - y)^2) in the structure of params: {W: x^T r / n, b: mean r}."""
    dw, db = _linear_grads(params, x, y)
    return {"W": dw.astype(params["W"].dtype), "b": np.asarray(db, params["b"].dtype)}


def linear_sgd_step(params: dict[str, Any], x: np.ndarray, y: np.ndarray, lr: float) -> dict[str, np.ndarray]:
    """One SGD step p - lr * grad on every leaf of {W, b} (the gradient of :func:`linear_grad`)."""
    dw, db = _linear_grads(params, x, y)
    lr32 = float(np.float32(lr))
    return {"W": (np.asarray(params["W"], np.float64) - lr32 * dw).astype(params["W"].dtype),
            "b": np.asarray(float(params["b"]) - lr32 * db, params["b"].dtype)}


def mlp_sgd(params: dict[str, Any], x: np.ndarray, y: np.ndarray, lr: float, steps: int) -> dict[str, Any]:
    """``steps`` SGD steps of a one-hidden-layer tanh MLP on the mean squared error, forward and backward
    written out by hand (as tests/oracles/mlp_sgd.py): the losses before each step, the loss after the last
    and the trained parameters, each in float32.

    Backward: r = out - y; dout = 2 r / r.size; dW2 = h^T dout; db2 = sum dout; dpre = (dout W2^T)(1 - h^2);
    dW1 = x^T dpre; db1 = sum dpre.
    """
    f = np.float64
    w1, b1 = np.asarray(params["hidden"]["W"], f), np.asarray(params["hidden"]["b"], f)
    w2, b2 = np.asarray(params["out"]["W"], f), np.asarray(params["out"]["b"], f)
    x64, y64 = np.asarray(x, f), np.asarray(y, f)
    lr = float(np.float32(lr))

    def forward(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> tuple[Any, Any, float]:
        h = np.tanh(x64 @ w1 + b1)
        out = h @ w2 + b2
        return h, out, float(np.mean((out - y64) ** 2))

    losses = []
    for _ in range(steps):
        h, out, loss = forward(w1, b1, w2, b2)
        losses.append(loss)
        dout = 2.0 * (out - y64) / out.size
        dw2, db2 = h.T @ dout, dout.sum(axis=0)
        dpre = (dout @ w2.T) * (1.0 - h ** 2)
        dw1, db1 = x64.T @ dpre, dpre.sum(axis=0)
        w1, b1, w2, b2 = w1 - lr * dw1, b1 - lr * db1, w2 - lr * dw2, b2 - lr * db2
    f32 = np.float32
    return {"losses": np.asarray(losses, f32), "final_loss": np.asarray(forward(w1, b1, w2, b2)[2], f32),
            "params": {"hidden": {"W": w1.astype(f32), "b": b1.astype(f32)},
                       "out": {"W": w2.astype(f32), "b": b2.astype(f32)}}}
