"""Reference implementations of the ``pytree`` family.

``jax.tree.*`` is the current spelling; ``jax.tree_util.tree_*`` the older one
(both are public). The ``manual`` implementations recurse over dicts, lists and
tuples by hand, following JAX's conventions (dict keys in sorted order, ``None``
is an empty subtree, not a leaf).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from .._implementation import Implementation


def _manual_map(f, tree, *rest):
    """Map ``f`` over the leaves of ``tree`` and ``rest``; ValueError on a structure mismatch."""
    containers = (dict, list, tuple, type(None))
    for other in rest:
        if type(other) is not type(tree) and (isinstance(tree, containers) or isinstance(other, containers)):
            raise ValueError(f"pytree structure mismatch: {type(tree).__name__} vs {type(other).__name__}")
    if tree is None:
        return None
    if isinstance(tree, dict):
        for other in rest:
            if sorted(other) != sorted(tree):
                raise ValueError(f"pytree structure mismatch: dict keys {sorted(tree)} vs {sorted(other)}")
        return {k: _manual_map(f, tree[k], *(o[k] for o in rest)) for k in sorted(tree)}
    if isinstance(tree, (list, tuple)):
        for other in rest:
            if len(other) != len(tree):
                raise ValueError(f"pytree structure mismatch: length {len(tree)} vs {len(other)}")
        out = [_manual_map(f, t, *(o[i] for o in rest)) for i, t in enumerate(tree)]
        return out if isinstance(tree, list) else tuple(out)
    return f(tree, *rest)


def _manual_leaves(tree):
    if tree is None:
        return []
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in _manual_leaves(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [leaf for t in tree for leaf in _manual_leaves(t)]
    return [tree]


# ---------------------------------------------------------------------------
# pytree-map-double-params (seed 002)
# ---------------------------------------------------------------------------


def double_tree_map(params):
    return jax.tree.map(lambda x: x * 2, params)


def double_tree_util_map(params):
    return jax.tree_util.tree_map(lambda x: x * 2, params)


def double_flatten_unflatten(params):
    leaves, treedef = jax.tree.flatten(params)
    return jax.tree.unflatten(treedef, [x * 2 for x in leaves])


def double_manual(params):
    return _manual_map(lambda x: x * 2, params)


# ---------------------------------------------------------------------------
# pytree-map-combine-trees (seed 003)
# ---------------------------------------------------------------------------


def combine_tree_map(tree1, tree2):
    return jax.tree.map(lambda a, b: a + b, tree1, tree2)


def combine_flatten_unflatten(tree1, tree2):
    leaves1, treedef1 = jax.tree.flatten(tree1)
    leaves2, treedef2 = jax.tree.flatten(tree2)
    if treedef1 != treedef2:  # type: ignore[operator]  # jaxlib's stubs leave PyTreeDef unresolved
        raise ValueError(f"pytree structure mismatch: {treedef1} vs {treedef2}")
    return jax.tree.unflatten(treedef1, [a + b for a, b in zip(leaves1, leaves2, strict=True)])


def combine_manual(tree1, tree2):
    return _manual_map(lambda a, b: a + b, tree1, tree2)


# ---------------------------------------------------------------------------
# pytree-list-of-dicts: list of dicts -> dict of lists (seed 003)
# ---------------------------------------------------------------------------


def transpose_tree_map(records):
    return jax.tree.map(lambda *xs: list(xs), *records)


def transpose_tree_transpose(records):
    outer = jax.tree.structure([0] * len(records))
    inner = jax.tree.structure(records[0])
    return jax.tree.transpose(outer, inner, records)


def transpose_comprehension(records):
    return {k: [r[k] for r in records] for k in sorted(records[0])}


# ---------------------------------------------------------------------------
# pytree-leaves (seed 003)
# ---------------------------------------------------------------------------


def leaves_tree_leaves(tree):
    return jax.tree.leaves(tree)


def leaves_tree_flatten(tree):
    return jax.tree.flatten(tree)[0]


def leaves_manual(tree):
    return _manual_leaves(tree)


# ---------------------------------------------------------------------------
# pytree-flatten-unflatten: (leaf count, round trip) (seed 003)
# ---------------------------------------------------------------------------


def roundtrip_tree_flatten(tree):
    leaves, treedef = jax.tree.flatten(tree)
    return len(leaves), jax.tree.unflatten(treedef, leaves)


def roundtrip_tree_util(tree):
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return treedef.num_leaves, jax.tree_util.tree_unflatten(treedef, leaves)  # type: ignore[attr-defined]  # idem


def roundtrip_leaves_structure(tree):
    leaves = jax.tree.leaves(tree)
    return len(leaves), jax.tree.unflatten(jax.tree.structure(tree), leaves)


# ---------------------------------------------------------------------------
# pytree-grad-structure / pytree-sgd-update: linear regression (seed 003)
# ---------------------------------------------------------------------------


def _predict(params, x):
    return x @ params["W"] + params["b"]


def _loss(params, x, y):
    r = _predict(params, x) - y
    return 0.5 * jnp.mean(r**2)


def grad_structure_grad(params, x, y):
    return jax.grad(_loss)(params, x, y)


def grad_structure_value_and_grad(params, x, y):
    _, grads = jax.value_and_grad(_loss)(params, x, y)
    return grads


def grad_structure_closed_form(params, x, y):
    r = _predict(params, x) - y
    n = x.shape[0]
    return {"W": x.T @ r / n, "b": jnp.mean(r)}


def sgd_tree_map(params, x, y, lr):
    grads = jax.grad(_loss)(params, x, y)
    return jax.tree.map(lambda p, g: p - lr * g, params, grads)


def _loss_separate(w, b, x, y):
    r = x @ w + b - y
    return 0.5 * jnp.mean(r**2)


def sgd_separate_args(params, x, y, lr):
    # The seed's contrast: W and b passed, differentiated and updated one by one.
    w, b = params["W"], params["b"]
    gw, gb = jax.grad(_loss_separate, argnums=(0, 1))(w, b, x, y)
    return {"W": w - lr * gw, "b": b - lr * gb}


def sgd_ravel_pytree(params, x, y, lr):
    flat, unravel = ravel_pytree(params)
    g = jax.grad(lambda v: _loss(unravel(v), x, y))(flat)
    return unravel(flat - lr * g)



# --- pytree-mlp-sgd: a small MLP trained with SGD, parameters as a pytree (seeds 002, 003) -----


def _mlp(params, x):
    h = jnp.tanh(x @ params["hidden"]["W"] + params["hidden"]["b"])
    return h @ params["out"]["W"] + params["out"]["b"]


def _mse(params, x, y):
    return jnp.mean((_mlp(params, x) - y) ** 2)


def mlp_sgd_tree_map(params, x, y, lr, steps):
    # `steps` SGD updates params <- params - lr * grad, the update applied leaf by leaf with jax.tree.map
    losses = []
    for _ in range(steps):
        loss, grads = jax.value_and_grad(_mse)(params, x, y)
        losses.append(loss)
        params = jax.tree.map(lambda p, g: p - lr * g, params, grads)
    return {"losses": jnp.stack(losses), "final_loss": _mse(params, x, y), "params": params}


def mlp_sgd_scan(params, x, y, lr, steps):
    # the same training loop as a lax.scan over the steps, the parameter tree as the carry
    def step(p, _):
        loss, grads = jax.value_and_grad(_mse)(p, x, y)
        return jax.tree.map(lambda a, g: a - lr * g, p, grads), loss
    params, losses = jax.lax.scan(step, params, None, length=steps)
    return {"losses": losses, "final_loss": _mse(params, x, y), "params": params}


IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="pytree-map-double-params", name="tree_map", fn=double_tree_map,
                   notes="jax.tree.map(lambda x: x * 2, params)"),
    Implementation(pattern="pytree-map-double-params", name="tree_util_map", fn=double_tree_util_map,
                   notes="jax.tree_util.tree_map, the older spelling"),
    Implementation(pattern="pytree-map-double-params", name="flatten_unflatten", fn=double_flatten_unflatten,
                   notes="flatten to leaves, map the list, unflatten with the treedef"),
    Implementation(pattern="pytree-map-double-params", name="manual", fn=double_manual,
                   notes="hand-written recursion over dict/list/tuple"),
    Implementation(pattern="pytree-map-combine-trees", name="tree_map", fn=combine_tree_map,
                   notes="jax.tree.map(lambda a, b: a + b, tree1, tree2); ValueError on a structure mismatch"),
    Implementation(pattern="pytree-map-combine-trees", name="flatten_unflatten", fn=combine_flatten_unflatten,
                   notes="flatten both, compare treedefs, add leaf lists, unflatten"),
    Implementation(pattern="pytree-map-combine-trees", name="manual", fn=combine_manual,
                   notes="hand-written recursion with explicit structure checks"),
    Implementation(pattern="pytree-list-of-dicts", name="tree_map", fn=transpose_tree_map,
                   notes="jax.tree.map(lambda *xs: list(xs), *records)"),
    Implementation(pattern="pytree-list-of-dicts", name="tree_transpose", fn=transpose_tree_transpose,
                   notes="jax.tree.transpose(outer_treedef, inner_treedef, records)"),
    Implementation(pattern="pytree-list-of-dicts", name="comprehension", fn=transpose_comprehension,
                   notes="dict comprehension; assumes every record has the same keys"),
    Implementation(pattern="pytree-leaves", name="tree_leaves", fn=leaves_tree_leaves,
                   notes="jax.tree.leaves(tree): a list, dict keys in sorted order"),
    Implementation(pattern="pytree-leaves", name="tree_flatten", fn=leaves_tree_flatten,
                   notes="jax.tree.flatten(tree)[0]"),
    Implementation(pattern="pytree-leaves", name="manual", fn=leaves_manual,
                   notes="hand-written recursion: sorted dict keys, None has no leaves"),
    Implementation(pattern="pytree-flatten-unflatten", name="tree_flatten", fn=roundtrip_tree_flatten,
                   notes="jax.tree.flatten then jax.tree.unflatten"),
    Implementation(pattern="pytree-flatten-unflatten", name="tree_util", fn=roundtrip_tree_util,
                   notes="jax.tree_util.tree_flatten / tree_unflatten; count from treedef.num_leaves"),
    Implementation(pattern="pytree-flatten-unflatten", name="leaves_structure", fn=roundtrip_leaves_structure,
                   notes="jax.tree.leaves + jax.tree.structure, then jax.tree.unflatten"),
    Implementation(pattern="pytree-grad-structure", name="grad", fn=grad_structure_grad,
                   notes="jax.grad(loss)(params, x, y): a dict shaped like params"),
    Implementation(pattern="pytree-grad-structure", name="value_and_grad", fn=grad_structure_value_and_grad,
                   notes="jax.value_and_grad(loss), keeping the gradient"),
    Implementation(pattern="pytree-grad-structure", name="closed_form", fn=grad_structure_closed_form,
                   notes="hand-derived gradient: W: x.T @ r / n, b: mean(r)"),
    Implementation(pattern="pytree-sgd-update", name="tree_map", fn=sgd_tree_map,
                   notes="grads = jax.grad(loss)(params, ...); jax.tree.map(lambda p, g: p - lr * g, params, grads)"),
    Implementation(pattern="pytree-sgd-update", name="separate_args", fn=sgd_separate_args,
                   notes="W and b as separate arguments, grad argnums=(0, 1), updated one by one"),
    Implementation(pattern="pytree-sgd-update", name="ravel_pytree", fn=sgd_ravel_pytree,
                   notes="jax.flatten_util.ravel_pytree: one flat vector, unravelled after the step"),
    Implementation(pattern="pytree-mlp-sgd", name="tree_map_loop", fn=mlp_sgd_tree_map,
                   notes="Python loop of value_and_grad + jax.tree.map updates"),
    Implementation(pattern="pytree-mlp-sgd", name="scan", fn=mlp_sgd_scan,
                   notes="lax.scan over the steps with the parameter tree as carry"),
]
