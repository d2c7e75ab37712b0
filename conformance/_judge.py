"""The judge: verdicts from what an executor observed and the judge's own catalog. No JAX, no plugin code.

An executor (:mod:`._executor`) runs one plugin's implementation and ships
what happened as plain data (:mod:`._wire`): the result, or the exception's
type and message, the placement of each output leaf, a second run's result,
whether the inputs were changed, what ``check_grads`` said. This module
turns that into a verdict with the catalog the judge loaded itself --
expected values, tolerances, expected errors, expected shards -- so nothing
a plugin does in its own process can change what it is compared with, or
anyone else's verdict. A plugin can still lie about its *own* outputs; that
is all it can do (docs/security.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from jaxpat.catalog import Case, ExpectedError, Pattern, Value

from ._compare import agree, compare, describe, same_bits
from ._placement import judge_placement
from ._wire import WireError, decode

__all__ = ["VMAP_BATCH", "ConformanceFailure", "expectation", "judge_agreement", "judge_case", "printable",
           "repro_script"]

#: Batch size of the vmap transform: each argument is stacked this many times.
VMAP_BATCH = 2


_SAFE = {"\n", "\t"}
_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def printable(text: str) -> str:
    """``text`` with every control character but newline and tab shown as an escape (``\\x1b``), and bidi
    overrides too: text that came from plugin code cannot repaint a terminal or reorder what is shown."""
    out = []
    for ch in str(text):
        o = ord(ch)
        if ch in _SAFE or (o >= 0x20 and not 0x7F <= o <= 0x9F and o not in _BIDI):
            out.append(ch)
        else:
            out.append(f"\\x{o:02x}" if o <= 0xFF else f"\\u{o:04x}")
    return "".join(out)


class ConformanceFailure(AssertionError):
    """An implementation does not conform; the message says how, precisely (control characters escaped)."""

    def __init__(self, message: object = "") -> None:
        super().__init__(printable(str(message)))


ConformanceFailure.__module__ = "jaxpat.conformance"  # public there; tracebacks name it so


def expectation(case: Case, transform: str) -> Value:
    """What ``case`` expects under ``transform`` (the ``grad`` block's value for grad)."""
    if transform == "grad":
        if case.grad is None:
            raise ConformanceFailure(f"case {case.id!r} has no `grad` block")
        return case.expect_under.get("grad", case.grad.expect)
    return case.expected(transform)


class NotRun(ConformanceFailure):
    """The item was not run (its implementation is quarantined): recorded ``not_run``, and the run fails."""


def _decoded(data: Any, what: str) -> Any:
    try:
        return decode(data)
    except WireError as exc:
        raise ConformanceFailure(f"the executor shipped a malformed {what}: {exc}") from None


def _first_line(text: str) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else "(no message)"


def unexpected(error: Mapping[str, Any]) -> ConformanceFailure:
    """The failure for an exception where a value was expected (its traceback rides along for the message)."""
    exc = ConformanceFailure(f"unexpected exception {error.get('type')}: {_first_line(str(error.get('message')))}")
    exc.traceback = str(error.get("traceback") or "")  # type: ignore[attr-defined]
    return exc


def judge_case(pattern: Pattern, case: Case, transform: str, platform: str, device_names: Sequence[str],
               obs: Mapping[str, Any], facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Raise :class:`ConformanceFailure` unless ``obs`` conforms to ``case`` under ``transform``.

    ``platform`` is the catalog platform (tolerances and nondeterminism are
    keyed on it); ``device_names`` the item's device set, in order. Returns
    (and fills ``facts`` with) what is worth recording: the observation, the
    ``check_grads`` modes verified, how determinism was judged.
    """
    facts = {} if facts is None else facts
    if "observed" in obs:
        facts["observed"] = obs["observed"]
    damage = obs.get("damage")
    if not damage:
        return _judge(pattern, case, transform, platform, device_names, obs, facts)
    # global damage (a JAX config flag changed and restored by the executor) is the headline
    try:
        _judge(pattern, case, transform, platform, device_names, obs, facts)
    except ConformanceFailure as own:
        raise ConformanceFailure(f"{damage}\nbesides, the item's own check failed: {own}") from None
    raise ConformanceFailure(str(damage))


def _judge(pattern: Pattern, case: Case, transform: str, platform: str, device_names: Sequence[str],
           obs: Mapping[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    expected = expectation(case, transform)
    error = obs.get("error")
    if isinstance(expected, ExpectedError):
        if error is not None:
            _judge_error(expected, error)
            return facts
        if "unshippable" in obs:
            raise ConformanceFailure(f"expected {expected.type_name} to be raised, but the call returned a "
                                     f"result that cannot be shipped: {obs['unshippable']}")
        out = _decoded(obs.get("result"), "result")
        raise ConformanceFailure(
            f"expected {expected.type_name}{f' matching {expected.match!r}' if expected.match else ''} "
            f"to be raised, but the call returned {describe(out)}"
        )
    if error is not None:
        raise unexpected(error)
    if "unshippable" in obs:
        raise ConformanceFailure(f"the result cannot be compared: {obs['unshippable']}")
    mutated = obs.get("mutated")
    if mutated:
        raise ConformanceFailure(
            "the implementation mutated its inputs (compared with freshly built arguments):\n"
            + "\n".join(str(m) for m in list(mutated)[:5])
        )
    first = _decoded(obs.get("result"), "result")
    problems = compare(expected, first, tolerance=case.tolerance, platform=platform,
                       batch=VMAP_BATCH if transform == "vmap" else 0)
    if problems:
        raise ConformanceFailure("wrong result:\n" + "\n".join(problems))
    problems = judge_placement(obs.get("placement") or [], device_names, case.shards)
    if problems:
        raise ConformanceFailure("wrong placement (read from the result's addressable shards):\n"
                                 + "\n".join(problems))
    if obs.get("second_error") is not None:
        raise unexpected(obs["second_error"])
    second_data = obs.get("second", "same")
    second = first if second_data == "same" else _decoded(second_data, "second result")
    if case.is_nondeterministic(platform):
        # declared: repeated runs may differ in the last bits here (e.g. GPU atomics); within tolerance
        diffs = agree(first, second, tolerance=case.tolerance, platform=platform)
        facts["determinism"] = "within tolerance (declared nondeterministic on this platform)"
    else:
        diffs = same_bits(first, second)
    if diffs:
        raise ConformanceFailure(
            "non-deterministic: the same item run twice gave different bits:\n" + "\n".join(diffs[:5])
        )
    if transform == "grad":
        grads = obs.get("check_grads") or {}
        if grads.get("failure"):
            raise ConformanceFailure(str(grads["failure"]))
        facts["check_grads"] = [str(m) for m in grads.get("modes", [])]
    return facts


def _judge_error(expected: ExpectedError, error: Mapping[str, Any]) -> None:
    """Raise ConformanceFailure unless the shipped exception is the expected one (type and message fragment)."""
    line = _first_line(str(error.get("message")))
    if not error.get("is_expected"):
        raise ConformanceFailure(f"expected {expected.type_name} (or a subclass), got {error.get('type')}: {line}")
    if expected.match and expected.match not in str(error.get("message")):
        raise ConformanceFailure(
            f"raised {error.get('type')} as expected, but its message does not contain "
            f"{expected.match!r}:\n  {line}"
        )


def judge_agreement(case: Case, platforms: Sequence[str], device_names: Sequence[str],
                    obs: Mapping[str, Any]) -> None:
    """Raise ConformanceFailure where the devices' results (shipped in ``obs["results"]``) disagree."""
    if obs.get("error") is not None:
        raise unexpected(obs["error"])
    results = [_decoded(r, "result") for r in obs.get("results") or []]
    if len(results) != len(device_names):
        raise ConformanceFailure(f"the executor shipped {len(results)} results for {len(device_names)} devices")
    problems = []
    for name, platform, result in zip(device_names[1:], platforms[1:], results[1:], strict=True):
        for p in agree(results[0], result, tolerance=case.tolerance, platform=platform):
            problems.append(f"{device_names[0]} vs {name}: {p}")
    if problems:
        raise ConformanceFailure("devices disagree:\n" + "\n".join(problems))


def repro_script(pattern: str, case: str, impl: str, transform: str, device: str, *, simulated_cpus: int = 0,
                 load: Sequence[str] = (), catalog: Sequence[str] = (), nodeid: str | None = None) -> str:
    """A Python file that reproduces the item with public APIs only (``python repro.py``).

    It calls :func:`jaxpat.conformance.run_case`, which raises
    :class:`ConformanceFailure` with the item's message while the item fails,
    and prints ``conforms`` once it passes. ``load`` and ``catalog`` are the
    run's ``--jaxpat-load`` modules and ``--jaxpat-catalog`` files.
    ``simulated_cpus`` > 0 asks for that many CPU devices before JAX starts
    (a device ``cpu:N`` with N > 0, or a device set).
    """
    what = nodeid or f"{pattern} / {case} / {impl} / {transform} on {device}"
    lines = [f"# Reproduce {what}",
             "# Save as repro.py and run `python repro.py`: it raises jaxpat.conformance.ConformanceFailure",
             "# while the implementation does not conform, and prints 'conforms' once it does."]
    if simulated_cpus:
        lines += ["import os", "",
                  'os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") '
                  f'+ " --xla_force_host_platform_device_count={simulated_cpus}").strip()  # before JAX starts']
    lines += ["from jaxpat.conformance import run_case", ""]
    extra = f", load={list(load)!r}" if load else ""
    if catalog:
        extra += f", catalog={[os.path.abspath(p) for p in catalog]!r}"
    lines += [f"run_case({pattern!r}, {case!r}, {impl!r}, transform={transform!r}, device={device!r}{extra})",
              'print("conforms")']
    return "\n".join(lines) + "\n"
