"""jaxpat's performance benchmarks: six side-by-side ratios, printed by ``python -m benchmarks``.

Every measurement runs in a fresh subprocess (so no in-process cache leaks
from one side to the other); see ``benchmarks/README.md`` for the figures,
their definitions, the targets and the latest measurements.

Modules:

- :mod:`benchmarks.run` — the command line and the six figures;
- :mod:`benchmarks._harness` — subprocesses, timing, the machine description;
- :mod:`benchmarks.bare_loop` — the conformance suite's JAX work without pytest;
- :mod:`benchmarks._scale` — synthetic catalogs 10× and 100× the shipped one;
- :mod:`benchmarks._replicas` — the in-process plugin implementing their copies;
- :mod:`benchmarks._timing` — a pytest plugin timing the run loop item by item.
"""
