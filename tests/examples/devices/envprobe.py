"""A pytest plugin that records, in each process, the environment JAX will start with."""

import json
import os

import pytest

KEYS = ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "TPU_VISIBLE_CHIPS", "TPU_CHIPS_PER_PROCESS_BOUNDS",
        "XLA_PYTHON_CLIENT_MEM_FRACTION", "XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_FLAGS")


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """After jaxpat's pytest_configure (which sets the variables), before any item imports JAX."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "main")
    probe = {"jax_imported": "jax" in __import__("sys").modules, **{k: os.environ.get(k) for k in KEYS}}
    with open(f"env-{name}.json", "w") as f:
        json.dump(probe, f)
