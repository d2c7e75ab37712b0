"""Explore items (``--jaxpat-explore N``): one per pattern × implementation × device × explored transform.

Node ids are ``jaxpat::PATTERN::explore[PLUGIN.IMPL-PLATFORM:ID-TRANSFORM]``
(the case id ``explore`` is reserved by the catalog). Each item draws its
examples in the judge (:mod:`._explore`), runs them one request at a time
on the implementation's executor (the ``explore`` request), and judges
every answer with the judge's own catalog and oracle. Judge side: no JAX, no
plugin code.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pytest

from ._collect import Device, ImplRef, JudgeSpec, Listing, _mark_deviations, ask, pattern_collectors, platform_devices

__all__ = ["ExploreItem", "explore_items", "explore_lines", "explore_settings", "explore_summary"]

_SUMMARY = pytest.StashKey[dict]()


def explore_settings(config: pytest.Config) -> tuple[int, int]:
    """``(examples per item, run seed)`` from ``--jaxpat-explore`` and ``--jaxpat-explore-seed``."""
    n = int(config.getoption("jaxpat_explore", 0) or 0)
    seed = int(config.getoption("jaxpat_explore_seed", 0) or 0)
    return n, seed


def explore_summary(config: pytest.Config) -> dict[str, Any]:
    """The report's ``explore`` member: examples per item, the run's seed and the catalog's coverage figure."""
    if _SUMMARY not in config.stash:
        from jaxpat.catalog._explore import coverage

        from ._collect import _LISTING

        listing = config.stash.get(_LISTING, None)
        if listing is not None:
            patterns = list(listing.catalog)
        else:  # the listing could not be made here: the shipped catalog's figure
            from jaxpat.catalog import load

            patterns = list(load(use_cache=False))
        n, seed = explore_settings(config)
        config.stash[_SUMMARY] = {"examples": n, "seed": seed, "coverage": coverage(patterns)}
    return config.stash[_SUMMARY]


def explore_lines(config: pytest.Config, results: Any) -> list[str]:
    """The terminal summary's explore lines: examples, seed, items, shrunk failures, compiles, coverage."""
    summary = explore_summary(config)
    mine = [r for r in results if r.get("kind") == "explore"]
    facts = [r["explore"] for r in mine if isinstance(r.get("explore"), dict)]
    failed = sum(1 for r in mine if r.get("outcome") == "failed")
    shapes, compiles = sum(f["shapes"] for f in facts), sum(f["compiles"] for f in facts)
    calls = sum(f["calls"] for f in facts)
    cov = summary["coverage"]
    line = (f"explore: {len(mine)} items, {summary['examples']} examples each (seed {summary['seed']}, "
            f"--explore-seed); {failed} failed with a shrunk example; {calls} calls ran {shapes} distinct "
            f"shapes with {compiles} compilations")
    pct = 100.0 * cov["with_oracle"] / cov["value_patterns"] if cov["value_patterns"] else 0.0
    return [line, f"explore coverage: {cov['figure']} patterns whose output is a value have a domain and an "
                  f"oracle ({pct:.0f} %)"]


def explore_items(config: pytest.Config, root: pytest.Collector, listing: Listing,
                  devices: list[Device]) -> list[pytest.Item]:
    """The explore items of every selected pattern that has a domain and an oracle (none without ``--explore``)."""
    from jaxpat.catalog._explore import explorable, explore_transforms

    n, _ = explore_settings(config)
    if n <= 0:
        return []
    transforms = config.getoption("jaxpat_transform")
    out: list[pytest.Item] = []
    for col, pattern, impls in pattern_collectors(config, root, listing, keep=explorable):
        for impl in impls:
            for device in devices:
                for transform in explore_transforms(pattern):
                    if transforms and transform not in transforms:
                        continue
                    spec = JudgeSpec(pattern, SimpleNamespace(id="explore", devices=1), impl, device, transform)
                    item = ExploreItem.from_parent(col, name=f"explore[{impl.id}-{spec.device_id}-{transform}]",
                                                   spec=spec)
                    _mark_deviations(config, item, spec)
                    out.append(item)
    return out


class ExploreItem(pytest.Item):
    """Generated inputs against the oracle for one implementation under one transform on one device."""

    def __init__(self, *, spec: JudgeSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        impl: ImplRef = spec.impl
        self.user_properties.append(("jaxpat", {
            "nodeid": self.nodeid, "kind": "explore", "pattern": spec.pattern.id, "family": spec.pattern.family,
            "case": "explore", "implementation": impl.id, "plugin": impl.plugin,
            "distribution": impl.distribution or None, "device": spec.device_id,
            "devices": [spec.device_id], "device_kind": spec.device.device_kind, "platform": spec.device.platform,
            "backend": spec.platform, "transform": spec.transform,
        }))

    def _rearm(self) -> None:
        """Restart the judge's watchdog: an explore item makes many requests, each under the item budget."""
        session = self.config.pluginmanager.get_plugin("jaxpat-session")
        watchdog = getattr(session, "watchdog", None)
        if watchdog is not None:
            watchdog.start(self.nodeid)

    def runtest(self) -> None:
        from ._explore import failure_message, run_exploration
        from ._judge import ConformanceFailure, judge_case

        spec = self.spec
        n, seed = explore_settings(self.config)
        facts: dict[str, Any] = {}
        base = {"op": "explore", "pattern": spec.pattern.id, "impl": spec.impl.id, "transform": spec.transform,
                "device": f"{spec.device.platform}:{spec.device.id}", "platform": spec.device.platform}

        def run(example: Any, case: Any) -> Mapping[str, Any]:
            request = {**base, "args": example.encoded(), "config": dict(case.config)}
            answer = ask(self, spec.impl.plugin, spec.impl.id, request)
            self._rearm()
            obs = answer.get("obs")
            if not isinstance(obs, dict):
                raise ConformanceFailure("the executor sent no observation for this example")
            if answer.get("damage"):
                obs = {**obs, "damage": answer["damage"]}
            return {**obs, "compiles": int(answer.get("compiles", 0))}

        def verdict(case: Any, obs: Mapping[str, Any]) -> None:
            judge_case(spec.pattern, case, spec.transform, spec.platform, [spec.device_id], obs)

        try:
            result = run_exploration(spec.pattern, spec.transform, n, seed, self.nodeid, run, verdict,
                                     compiles=lambda obs: int(obs.get("compiles", 0)))
            facts["explore"] = result.facts()
            facts["compiles"] = result.compiles
            if result.error:
                raise ConformanceFailure(result.error)
            if result.failure is not None:
                repro = self._repro(result.failure.example.encoded())
                facts["repro"] = repro
                raise ConformanceFailure(failure_message(spec.pattern, spec.impl.id, spec.transform, spec.device_id,
                                                         result, repro))
        except ConformanceFailure as exc:
            facts["message"] = str(exc)
            if type(exc).__name__ == "NotRun":
                facts["not_run"] = True
            raise
        finally:
            self.user_properties.append(("jaxpat_facts", facts))

    def _repro(self, args: dict[str, Any]) -> str:
        from ._explore import repro_script

        spec = self.spec
        cpu = len(platform_devices(self.config, "cpu")) if spec.device.platform == "cpu" else 0
        return repro_script(spec.pattern.id, spec.impl.id, spec.transform, spec.device_id, args,
                            simulated_cpus=cpu if spec.device.id > 0 else 0,
                            load=self.config.getoption("jaxpat_load"), catalog=self.config.getoption("jaxpat_catalog"),
                            nodeid=self.nodeid)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from ._judge import ConformanceFailure

        if isinstance(excinfo.value, ConformanceFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        loc = self.spec.pattern.location
        return (self.path, (loc.line - 1) if loc else None, self.nodeid)
