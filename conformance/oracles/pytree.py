"""Oracles of the pytree patterns (NumPy and plain Python; no JAX)."""

from __future__ import annotations

__all__: list[str] = []
