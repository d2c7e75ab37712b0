"""Reference implementations for the ``checkpoint`` family (seed 004)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .._implementation import Implementation

# --- checkpoint-scan-body: h <- tanh(w * h + x), loss = sum(h**2) -------------------


def _rnn_body(w):
    def body(h, x):
        h = jnp.tanh(w * h + x)
        return h, h

    return body


def _rnn_loss(body, xs):
    _, hs = lax.scan(body, jnp.zeros((), xs.dtype), xs)
    return jnp.sum(hs**2)


def _scan_without(w, xs):
    return _rnn_loss(_rnn_body(w), xs)


def _scan_with(w, xs):
    return _rnn_loss(jax.checkpoint(_rnn_body(w)), xs)


def _scan_nothing_saveable(w, xs):
    body = jax.checkpoint(_rnn_body(w), policy=jax.checkpoint_policies.nothing_saveable)
    return _rnn_loss(body, xs)


def _scan_remat(w, xs):
    return _rnn_loss(jax.remat(_rnn_body(w)), xs)


# --- checkpoint-composed-function: y = sin(x); z = sin(y) ----------------------------


def _composed(x):
    y = jnp.sin(x)
    z = jnp.sin(y)
    return z


def _composed_checkpointed(x):
    return jax.checkpoint(_composed)(x)


# ---------------------------------------------------------------------------
# checkpoint-seed-add-chain: seed 004's y = x + 2; z = y + 2
# ---------------------------------------------------------------------------


def _add_chain(x):
    y = x + 2.0
    z = y + 2.0
    return z


def add_chain_plain(x):
    return _add_chain(x)


def add_chain_checkpoint(x):
    return jax.checkpoint(_add_chain)(x)


IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="checkpoint-scan-body", name="without_checkpoint", fn=_scan_without,
                   notes="plain scan body: residuals of every step are stored for the backward pass"),
    Implementation(pattern="checkpoint-scan-body", name="with_checkpoint", fn=_scan_with,
                   notes="jax.checkpoint on the scan body: recomputed during the backward pass"),
    Implementation(pattern="checkpoint-scan-body", name="nothing_saveable", fn=_scan_nothing_saveable,
                   notes="jax.checkpoint(policy=jax.checkpoint_policies.nothing_saveable)"),
    Implementation(pattern="checkpoint-scan-body", name="remat", fn=_scan_remat,
                   notes="jax.remat, the alias of jax.checkpoint"),
    Implementation(pattern="checkpoint-composed-function", name="without_checkpoint", fn=_composed,
                   notes="sin(sin(x)); the intermediate sin(x) is stored"),
    Implementation(pattern="checkpoint-composed-function", name="with_checkpoint", fn=_composed_checkpointed,
                   notes="jax.checkpoint(f): sin(x) is recomputed in the backward pass"),
    Implementation(pattern="checkpoint-seed-add-chain", name="plain", fn=add_chain_plain,
                   notes="y = x + 2; z = y + 2"),
    Implementation(pattern="checkpoint-seed-add-chain", name="checkpoint", fn=add_chain_checkpoint,
                   notes="the same under jax.checkpoint"),
]
