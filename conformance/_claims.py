"""The claims' pytest items: one per pattern × implementation × device × claim.

The measurement itself lives in :mod:`._measure` (no pytest there); this
module only turns a :class:`~._measure.ClaimResult` into a pass, a skip or a
failure with the figures, and records it for the report.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest
from jaxpat.catalog import Pattern
from jaxpat.patterns import Implementation

from jaxpat._util import first_line

from ._collect import PatternCollector
from ._execute import ConformanceFailure
from ._measure import claims_for, measure, speed_budget_for

__all__ = ["ClaimItem", "claim_items"]


def claim_items(config: pytest.Config, root: pytest.Collector, registry: Any, devices: list[Any]) -> list[pytest.Item]:
    """One item per pattern × implementation × device × claim, under ``jaxpat::PATTERN::claim-NAME[...]``."""
    import jax

    pats, impls_glob = config.getoption("jaxpat_pattern"), config.getoption("jaxpat_impl")
    out: list[pytest.Item] = []
    for pattern in registry.catalog:
        if pats and not any(fnmatch.fnmatchcase(pattern.id, g) for g in pats):
            continue
        impls = registry.implementations(pattern.id)
        chosen = [i for i in impls if not impls_glob or any(fnmatch.fnmatchcase(i.id, g) for g in impls_glob)]
        if not chosen or pattern.claims.is_empty():
            continue
        col = PatternCollector.from_parent(root, name=pattern.id, pattern=pattern)
        for impl in chosen:
            for name in claims_for(pattern, impl).kinds():
                for device in devices:
                    item = ClaimItem.from_parent(
                        col, name=f"claim-{name}[{impl.id}-{device.platform}:{device.id}]",
                        pattern=pattern, impl=impl, device=device, claim=name, siblings=impls,
                    )
                    # only deviations that name a claim apply to claim items (catalog-format.md)
                    for dev in pattern.deviations:
                        if dev.when.claim is not None and dev.matches(
                                claim=name, platform=device.platform, jax=jax.__version__, implementation=impl.id,
                                device=f"{device.platform}:{device.id}"):
                            item.add_marker(pytest.mark.xfail(strict=True, reason=f"known deviation: {dev.reason}"))
                    out.append(item)
    return out


class ClaimItem(pytest.Item):
    """Measures one claim; fails when the measurement contradicts it or proves nothing."""

    def __init__(self, *, pattern: Pattern, impl: Implementation, device: Any, claim: str,
                 siblings: list[Implementation], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pattern, self.impl, self.device, self.claim, self.siblings = pattern, impl, device, claim, siblings
        self.user_properties.append(("jaxpat", {
            "nodeid": self.nodeid, "kind": "claim", "pattern": pattern.id, "family": pattern.family,
            "implementation": impl.id, "plugin": impl.plugin, "device": f"{device.platform}:{device.id}",
            "platform": device.platform, "transform": f"claim:{claim}", "claim": claim,
        }))

    def runtest(self) -> None:
        try:
            result = measure(self.claim, self.pattern, self.impl, self.device, self.siblings,
                             speed_budget=speed_budget_for(self.config.getoption("jaxpat_timeout")))
        except Exception as exc:
            message = f"could not measure claim `{self.claim}` of {self.pattern.id} for {self.impl.id}: " \
                      f"{first_line(exc)}"
            self.user_properties.append(("jaxpat_facts", {"message": message}))
            raise ConformanceFailure(message) from exc
        record = {**result.to_dict(), "nodeid": self.nodeid}
        self.user_properties.append(("jaxpat_facts", {"claims": [record], "message": result.message}))
        if result.verdict == "skipped" or (self.claim == "speedup" and result.verdict == "inconclusive"):
            # a timing inside its noise band proves nothing: skipped, never passed, never a flaky failure
            pytest.skip(result.message)
        if result.verdict in ("violated", "inconclusive"):
            seed = f"\nseed's wording: {result.seed_claim}" if result.seed_claim else ""
            raise ConformanceFailure(
                f"claim `{self.claim}` of {self.pattern.id} is {result.verdict} for {self.impl.id} "
                f"on {result.device}: {result.message}{seed}"
            )

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return (self.path, None, self.nodeid)
