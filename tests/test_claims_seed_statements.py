"""Seed statements added to the catalog (issue 21, part 6): their expected values come from an independent
oracle or from mathematics, every reference implementation conforms, and a plausible wrong implementation
of each is caught by the same checks."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402

from jaxpat.conformance._execute import ConformanceFailure, ItemSpec, run_item  # noqa: E402
from jaxpat.patterns import load_registry  # noqa: E402

ORACLES = Path(__file__).parent / "oracles"


def _oracle(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"_oracle_{name}", ORACLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def registry() -> Any:
    return load_registry()


def _run(registry: Any, pattern_id: str, fn: Any = None, *, impl: str | None = None,
         transforms: tuple[str, ...] | None = None) -> None:
    """Run every case of ``pattern_id`` (under each of its transforms) with a reference implementation, or
    with ``fn`` in its place; raises ConformanceFailure on the first that does not conform."""
    pattern = registry.catalog.get(pattern_id)
    impls = registry.implementations(pattern_id)
    base = next(i for i in impls if impl in (None, i.name))
    chosen = base if fn is None else dataclasses.replace(base, name="counter", fn=fn)
    for case in pattern.cases:
        for transform in transforms or case.transforms:
            run_item(ItemSpec(pattern, case, chosen, jax.devices()[0], transform))


NEW = ["grad-linear-function", "jit-decorator", "vmap-in-axes-list", "scan-weak-typed-carry-init",
       "pytree-mlp-sgd", "prng-split-threading", "scan-carry-silent-broadcast", "scan-over-python-list-of-scalars"]


@pytest.mark.parametrize("pattern_id", NEW)
def test_every_reference_implementation_conforms(registry: Any, pattern_id: str) -> None:
    impls = registry.implementations(pattern_id)
    assert len(impls) >= 2, "a pattern needs more than one way to be checked against"
    for impl in impls:
        _run(registry, pattern_id, impl=impl.name)


def test_mlp_cases_are_the_numpy_oracles_values(registry: Any) -> None:
    """The catalog's expected losses and parameters are the hand-written NumPy backprop's, to float32."""
    oracle = _oracle("mlp_sgd")
    values = oracle.catalog_values()
    pattern = registry.catalog.get("pytree-mlp-sgd")
    assert {c.id for c in pattern.cases} == set(oracle.CASES)
    for case in pattern.cases:
        want = values[case.id]
        got = case.expected("eager").to_numpy()
        leaves = [(got["losses"], want["losses"]), (got["final_loss"], want["final_loss"])]
        for layer in ("hidden", "out"):
            for name in ("W", "b"):
                leaves.append((got["params"][layer][name], want["params"][layer][name]))
        for recorded, exact in leaves:
            np.testing.assert_allclose(recorded, np.asarray(exact, np.float32), rtol=0, atol=0)
        args = oracle.CASES[case.id]
        assert case.args["steps"] == args["steps"]
        np.testing.assert_array_equal(case.args["x"].to_numpy(), np.asarray(args["x"], np.float32))
        np.testing.assert_array_equal(case.args["params"].to_numpy()["hidden"]["W"],
                                      np.asarray(args["params"]["hidden"]["W"], np.float32))


def test_mlp_oracle_gradient_is_the_finite_difference() -> None:
    """The oracle's hand-written backward pass agrees with central differences of its own loss (float64)."""
    oracle = _oracle("mlp_sgd")
    case = oracle.CASES["xor-three-steps"]
    lr = 1e-6  # one tiny step: params move by -lr * grad, so (loss before - loss after) / lr ≈ |grad|²
    out = oracle.train(case["params"], case["x"], case["y"], lr, 1)
    flat0 = np.concatenate([np.ravel(case["params"][lay][n]) for lay in ("hidden", "out") for n in ("W", "b")])
    flat1 = np.concatenate([np.ravel(out["params"][lay][n]) for lay in ("hidden", "out") for n in ("W", "b")])
    grad = (np.asarray(np.asarray(flat0, np.float32), np.float64) - flat1) / lr

    def loss(flat: np.ndarray) -> float:
        w1, b1, w2, b2 = flat[:6].reshape(2, 3), flat[6:9], flat[9:12].reshape(3, 1), flat[12:]
        x, y = np.asarray(case["x"], np.float64), np.asarray(case["y"], np.float64)
        return float(np.mean((np.tanh(x @ w1 + b1) @ w2 + b2 - y) ** 2))

    base = np.asarray(np.asarray(flat0, np.float32), np.float64)
    numeric = np.array([(loss(base + e) - loss(base - e)) / 2e-6 for e in np.eye(base.size) * 1e-6])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def _mlp_forgets_tanh_derivative(params: Any, x: Any, y: Any, lr: float, steps: int) -> Any:
    """Backprop that treats tanh's derivative as 1 (a plausible slip): the losses' first value is right."""
    def mlp(p: Any, v: Any) -> Any:
        pre = v @ p["hidden"]["W"] + p["hidden"]["b"]
        h = pre + jax.lax.stop_gradient(jnp.tanh(pre) - pre)  # value tanh(pre), derivative 1
        return h @ p["out"]["W"] + p["out"]["b"]

    def mse(p: Any) -> Any:
        return jnp.mean((mlp(p, x) - y) ** 2)

    losses = []
    for _ in range(steps):
        loss, grads = jax.value_and_grad(mse)(params)
        losses.append(loss)
        params = jax.tree.map(lambda a, g: a - lr * g, params, grads)
    return {"losses": jnp.stack(losses), "final_loss": mse(params), "params": params}


def _mlp_ascends(params: Any, x: Any, y: Any, lr: float, steps: int) -> Any:
    from jaxpat.patterns.reference.pytree import mlp_sgd_tree_map

    return mlp_sgd_tree_map(params, x, y, -lr, steps)


COUNTER = [
    ("pytree-mlp-sgd", _mlp_forgets_tanh_derivative),
    ("pytree-mlp-sgd", _mlp_ascends),
    ("grad-linear-function", lambda x, a: jax.grad(lambda v: jnp.dot(a, v) * jnp.sum(v) / 3)(x)),
    ("grad-linear-function", lambda x, a: x),
    ("jit-decorator", jax.jit(lambda x: x * x + 2 * x)),
    ("vmap-in-axes-list", lambda xs, w: jax.vmap(jnp.dot, in_axes=[0, 0])(xs, w)),  # w mapped, not shared
    ("vmap-in-axes-list", lambda xs, w: jnp.sum(xs * w[0], axis=1)),
    ("scan-weak-typed-carry-init", lambda xs: jax.lax.scan(lambda c, x: (c + x, c + x), jnp.int32(0), xs)[1]),
    ("scan-weak-typed-carry-init", lambda xs: jax.lax.scan(lambda c, x: (c + x, c), jnp.array(0), xs)[1]),
    # a scalar carry where the seed's (2,) one broadcasts: the outputs lose their second column
    ("scan-carry-silent-broadcast", lambda xs, init: jax.lax.scan(lambda c, x: (c + x, c + x), init[0], xs)),
    # converting the list first works: the pattern's statement is that the list itself raises
    ("scan-over-python-list-of-scalars",
     lambda n: jax.lax.scan(lambda c, x: (c + x, c + x), 0, jnp.asarray(list(range(n))))[1]),
    # the same key for every draw: n equal draws
    ("prng-split-threading", lambda key, n: jnp.stack([jax.random.uniform(key) for _ in range(n)])),
    # the subkey kept as the state and the new key drawn with: the roles swapped
    ("prng-split-threading", lambda key, n: _swapped_threading(key, n)),
]


def _swapped_threading(key: Any, n: int) -> Any:
    draws = []
    for _ in range(n):
        subkey, key = jax.random.split(key)
        draws.append(jax.random.uniform(subkey))
    return jnp.stack(draws)


@pytest.mark.parametrize(("pattern_id", "fn"), COUNTER, ids=[f"{p}-{i}" for i, (p, _) in enumerate(COUNTER)])
def test_a_wrong_implementation_is_caught(registry: Any, pattern_id: str, fn: Any) -> None:
    with pytest.raises(ConformanceFailure):
        _run(registry, pattern_id, fn)


def test_lax_map_is_credited_to_the_seed_that_states_it(registry: Any) -> None:
    """Seed 004 says "map takes batch_size ... (executes vmap sequentially)"; seed 003 never mentions it."""
    pattern = registry.catalog.get("vmap-lax-map-batch-size")
    assert pattern.source.seed == "004_f255994e8172e92e.txt"
    seeds = Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if seeds.is_dir():
        assert "batch_size" in (seeds / "004_f255994e8172e92e.txt").read_text()
        assert "batch_size" not in (seeds / "003_978648b1cf5de4b3.txt").read_text()


def test_scan_carry_mismatch_cites_the_section_that_says_it(registry: Any) -> None:
    pattern = registry.catalog.get("scan-carry-mismatch")
    assert pattern.source.section is not None
    assert "Incorrect Carry Initialization" in pattern.source.section


def test_checkpoint_on_the_composed_function_halves_its_residuals(registry: Any) -> None:
    """jax.checkpoint(sin ∘ sin) saves 4 B instead of 8 B at x = 0.5 (x instead of cos x and cos(sin x));
    a "checkpoint" that does not checkpoint is a violated residuals claim."""
    from jaxpat.conformance import _measure

    pattern = registry.catalog.get("checkpoint-composed-function")
    impls = registry.implementations(pattern.id)
    mine = next(i for i in impls if i.name == "with_checkpoint")
    held = _measure.measure("residuals", pattern, mine, jax.devices()[0], impls)
    assert held.verdict == "held", held.message
    assert (held.measured["residual_bytes"], held.measured["baseline_residual_bytes"]) == (4, 8)
    fake = dataclasses.replace(mine, fn=lambda x: jnp.sin(jnp.sin(x)))
    flipped = _measure.measure("residuals", pattern, fake, jax.devices()[0], impls)
    assert flipped.verdict == "violated", flipped.message


def _entry_ops(compiled_text: str) -> list[str]:
    """The operations of the compiled module's ENTRY computation (parameters left out)."""
    import re

    entry = compiled_text[compiled_text.index("ENTRY"):]
    body = entry[entry.index("{") + 1:entry.index("\n}")]
    ops = [m.group(1) for m in re.finditer(r"=\s*\S+\s+([\w-]+)\(", body)]
    return [op for op in ops if op != "parameter"]


def test_the_jit_speedup_is_fusion_observed_in_the_compiled_program() -> None:
    """Seed 002's jit speed-up comes from fusion: jax.jit(selu) compiles to ONE fused loop over x (compare,
    exp, multiply, add, select, multiply inside it); with an optimisation barrier between the two halves
    the same function needs two."""
    from jaxpat.patterns.reference import speed

    x = jnp.ones((1000,), jnp.float32)
    text = speed._selu_jit.lower(x).compile().as_text()
    assert _entry_ops(text) == ["fusion"], _entry_ops(text)
    fused = text[text.index("fused_computation"):text.index("ENTRY")]
    for op in ("exponential(", "select(", "compare("):
        assert op in fused

    def barrier_selu(v: Any) -> Any:
        inner = jnp.where(v > 0, v, 1.6732632 * jnp.exp(v) - 1.6732632)
        return 1.050701 * jax.lax.optimization_barrier(inner)

    split = jax.jit(barrier_selu).lower(x).compile().as_text()
    assert _entry_ops(split).count("fusion") + _entry_ops(split).count("multiply") >= 2
