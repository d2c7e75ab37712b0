"""The claims' pytest items: one per pattern × implementation × device × claim.

The measurement itself lives in :mod:`._measure` (no pytest there) and runs
in the implementation's executor (:mod:`._executor`); this module, on the
judge's side, turns the shipped result into a pass, a skip or a failure with
the figures, and records it for the report.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from jaxpat.catalog import Pattern

from ._collect import Device, ImplRef, PatternCollector, ask, item_limit, jax_version, reuse_support
from ._judge import ConformanceFailure

__all__ = ["ClaimItem", "claim_items"]


def all_or_any(value: str, globs: list[str]) -> bool:
    """True when ``globs`` is empty or one of them matches ``value``."""
    return not globs or any(fnmatch.fnmatchcase(value, g) for g in globs)


def claim_items(config: pytest.Config, root: pytest.Collector, registry: Any, devices: list[Any]) -> list[pytest.Item]:
    """One item per pattern × implementation × device × claim, under ``jaxpat::PATTERN::claim-NAME[...]``."""
    pats, impls_glob = config.getoption("jaxpat_pattern"), config.getoption("jaxpat_impl")
    out: list[pytest.Item] = []
    for pattern in registry.catalog:
        if pats and not any(fnmatch.fnmatchcase(pattern.id, g) for g in pats):
            continue
        if not all_or_any(pattern.family, config.getoption("jaxpat_family")):
            continue
        impls = registry.implementations(pattern.id)
        chosen = [i for i in impls if not impls_glob or any(fnmatch.fnmatchcase(i.id, g) for g in impls_glob)]
        if not chosen or pattern.claims.is_empty():
            continue
        col = PatternCollector.from_parent(root, name=pattern.id, pattern=pattern)
        for impl in chosen:
            for name in pattern.claims.for_implementation(impl.id, impl.name).kinds():
                for device in devices:
                    item = ClaimItem.from_parent(
                        col, name=f"claim-{name}[{impl.id}-{device.platform}:{device.id}]",
                        pattern=pattern, impl=impl, device=device, claim=name, siblings=impls,
                    )
                    # only deviations that name a claim apply to claim items (catalog-format.md)
                    for dev in pattern.deviations:
                        if dev.when.claim is not None and dev.matches(
                                claim=name, platform=device.platform, jax=jax_version(config), implementation=impl.id,
                                device=f"{device.platform}:{device.id}"):
                            item.add_marker(pytest.mark.xfail(strict=True, reason=f"known deviation: {dev.reason}"))
                    out.append(item)
    return out


class ClaimItem(pytest.Item):
    """Measures one claim; fails when the measurement contradicts it or proves nothing."""

    def __init__(self, *, pattern: Pattern, impl: ImplRef, device: Device, claim: str,
                 siblings: list[ImplRef], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pattern, self.impl, self.device, self.claim, self.siblings = pattern, impl, device, claim, siblings
        self.user_properties.append(("jaxpat", {
            "nodeid": self.nodeid, "kind": "claim", "pattern": pattern.id, "family": pattern.family,
            "implementation": impl.id, "plugin": impl.plugin, "device": f"{device.platform}:{device.id}",
            "platform": device.platform, "transform": f"claim:{claim}", "claim": claim,
        }))

    def runtest(self) -> None:
        from ._reuse import run_or_reuse

        run_or_reuse(self, self._runtest, reuse_support())  # speed claims are never reused

    def _runtest(self) -> None:
        from ._claim_verdicts import claim_result

        limit = item_limit(self.config)
        request = {"op": "claim", "pattern": self.pattern.id, "impl": self.impl.id, "claim": self.claim,
                   "device": f"{self.device.platform}:{self.device.id}",
                   # a speed claim's timing budget: a third of the item's, so compiling and judging fit in it
                   "speed_budget": None if limit is None else limit / 3}
        try:
            answer = ask(self, self.impl.plugin, self.impl.id, request)
        except ConformanceFailure as exc:
            self.user_properties.append(("jaxpat_facts", {"message": str(exc),
                                                          **({"not_run": True} if type(exc).__name__ == "NotRun"
                                                             else {})}))
            raise
        shipped = answer.get("claim") or {}
        figures = shipped.get("figures")
        if shipped.get("error") or not isinstance(figures, dict):
            message = str(shipped.get("error") or "the executor sent no measurement")
            self.user_properties.append(("jaxpat_facts", {"message": message}))
            raise ConformanceFailure(message)
        # the verdict is the judge's: the catalog's claim for this implementation, and the shipped figures
        claims = self.pattern.claims.for_implementation(self.impl.id, self.impl.name)
        try:
            result = claim_result(self.pattern.id, self.impl.id, self.claim, claims, figures,
                                  device=f"{self.device.platform}:{self.device.id}").to_dict()
        except (KeyError, ValueError, TypeError) as exc:
            message = f"the figures shipped for claim `{self.claim}` cannot be judged: {exc}"
            self.user_properties.append(("jaxpat_facts", {"message": message}))
            raise ConformanceFailure(message) from None
        verdict, message = result["verdict"], str(result.get("message", ""))
        record = {**result, "nodeid": self.nodeid}
        self.user_properties.append(("jaxpat_facts", {"claims": [record], "message": message}))
        timed = self.claim == "speedup" or (self.claim == "observe" and _timed_observation(claims))
        if verdict == "skipped" or (timed and verdict == "inconclusive"):
            # a timing inside its noise band proves nothing: skipped, never passed, never a flaky failure
            pytest.skip(message)
        if verdict in ("violated", "inconclusive"):
            seed = f"\nseed's wording: {result['seed_claim']}" if result.get("seed_claim") else ""
            raise ConformanceFailure(
                f"claim `{self.claim}` of {self.pattern.id} is {verdict} for {self.impl.id} "
                f"on {result.get('device', '')}: {message}{seed}"
            )

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return (self.path, None, self.nodeid)


def _timed_observation(claims: Any) -> bool:
    """Observations decided by timing (async dispatch, first calls): inconclusive is a skip, as for speed."""
    return claims.observe is not None and claims.observe.what in ("async_dispatch", "first_call")
