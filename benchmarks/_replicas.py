"""An in-process jaxpat plugin for figure 6: the reference implementations, once per replica pattern.

The synthetic catalogs of :mod:`benchmarks._scale` copy every shipped pattern
``k`` times with ids ``PATTERN-r0`` … ``PATTERN-r{k-1}``. This plugin returns,
for each copy, an :class:`jaxpat.patterns.Implementation` with the *same function*
and name as the reference plugin's (so items, inputs and expected values are
the shipped ones). ``k`` comes from ``JAXPAT_BENCH_REPLICAS``.

It contributes no catalog file: the copies are loaded with ``--jaxpat-catalog``,
whose files the registry loads (as plugins of their own) before it validates
any plugin's implementations, so implementing patterns that another
in-process plugin contributes is allowed. The run blocks the ``reference``
and ``example`` plugins (``JAXPAT_BLOCK_PLUGINS``) and turns entry points off
(``JAXPAT_DISABLE_PLUGIN_AUTOLOAD``) so that only the copies run. Like every
plugin module it imports no JAX at module level.
"""

from __future__ import annotations

import os

from jaxpat.patterns import Implementation, hookimpl

#: Environment variable: how many replicas of each shipped pattern to implement.
ENV_REPLICAS = "JAXPAT_BENCH_REPLICAS"


@hookimpl
def jaxpat_implementations() -> list[Implementation]:
    from jaxpat.patterns import reference

    k = int(os.environ.get(ENV_REPLICAS, "1"))
    base = reference.jaxpat_implementations()
    return [
        Implementation(f"{impl.pattern}-r{r}", impl.name, impl.fn, notes=impl.notes)
        for r in range(k) for impl in base
    ]
