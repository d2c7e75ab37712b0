"""With FAKE_JAX_VERSION set, ``jax.__version__`` reads as that version in every process that imports JAX (the
probe and the executors): how tests/test_reuse.py changes the JAX version string without another JAX."""

import os
import sys

_FAKE = os.environ.get("FAKE_JAX_VERSION")
if _FAKE:
    import importlib.abc
    import importlib.machinery

    class _FakeVersion(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "jax":
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None:
                return spec
            run = spec.loader.exec_module

            def exec_module(module):
                run(module)
                module.__version__ = _FAKE

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _FakeVersion())
