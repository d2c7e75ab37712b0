"""The executor: the only process of a conformance run where plugin code runs -- one plugin per process.

``python -m jaxpat.conformance._executor --plugin NAME`` imports JAX, loads
the registry with the plugin ``NAME`` alone (the reference implementations
are the plugin ``reference``), says hello (the plugin, its implementations,
its catalog files, its load errors) and then serves requests, one JSON
object per line on its standard input, answering one JSON object per line
on the file descriptor that was its standard output. Anything the plugin
prints goes to standard error, which the judge captures per item. It never
decides a verdict: it ships what it observed (:func:`._execute.observe_case`,
claim figures) and the judge (:mod:`._judge`, another process, which never
imports a plugin) decides.

``--probe`` is the plugin-free variant: it reports the devices, the JAX
versions and config this host offers, then exits.

Budgets are the judge's: it kills this process's group when an item runs
past its limit, so C code holding the GIL cannot outlast them. On
``SIGUSR1`` the process writes every thread's stack to standard error
first (faulthandler), which the judge quotes in the timeout's message.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import gc
import json
import os
import signal
import sys
import traceback
from typing import Any, BinaryIO

__all__ = ["PROTOCOL", "main"]

#: The request/answer protocol's version (hello carries it; the judge refuses another).
PROTOCOL = 1


def _channel() -> tuple[BinaryIO, BinaryIO]:
    """Requests come on fd 0; answers go to a private duplicate of fd 1; fd 1 itself becomes stderr."""
    out_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(0, "rb", buffering=0), os.fdopen(out_fd, "wb", buffering=0)


def _send(out: BinaryIO, msg: dict[str, Any]) -> None:
    # NaN and infinities may appear in claim figures; the judge's reader takes them (Python's json does)
    data = json.dumps(msg, separators=(",", ":")).encode() + b"\n"
    view = memoryview(data)
    while view:
        n = out.write(view)
        view = view[n or 0:]


def _recv(inp: BinaryIO) -> dict[str, Any] | None:
    line = bytearray()
    while True:
        chunk = inp.readline()
        if not chunk:
            return None
        line += chunk
        if line.endswith(b"\n"):
            return json.loads(line)


def _setup_jax(cache_dir: str | None) -> Any:
    import jax
    import jax.monitoring

    if cache_dir:
        jax.config.update("jax_compilation_cache_dir", cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    counter = {"compiles": 0}

    def on_event(event: str, duration_secs: float, **_: str | int) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            counter["compiles"] += 1

    jax.monitoring.register_event_duration_secs_listener(on_event)
    return counter


def probe(platforms: str | None, all_devices: bool) -> dict[str, Any]:
    """The devices and JAX of this host, as the judge needs them to collect items (no plugin is loaded)."""
    import platform as _platform

    import jax

    from jaxpat._util import dist_version

    from ._execute import select_devices
    from ._placement import platform_name

    chosen, absent = select_devices(platforms, all_devices)

    def info(d: Any) -> dict[str, Any]:
        return {"id": int(d.id), "platform": str(d.platform), "kind": str(d.device_kind),
                "backend": platform_name(d)}

    from ._setup import GUARDED_CONFIG, jsonable

    return {
        "protocol": PROTOCOL,
        "devices": [info(d) for d in chosen],
        "platform_devices": {p: [info(d) for d in jax.devices(p)] for p in dict.fromkeys(d.platform for d in chosen)},
        "absent": absent,
        "jax": jax.__version__,
        "jaxlib": dist_version("jaxlib"),
        "numpy": dist_version("numpy"),
        "python": _platform.python_version(),
        "default_backend": jax.default_backend(),
        "jax_config": {name: jsonable(getattr(jax.config, name)) for name in GUARDED_CONFIG},
    }


class _Server:
    """Serves one plugin's requests."""

    def __init__(self, ns: argparse.Namespace, counter: dict[str, int]) -> None:
        import importlib

        from jaxpat import _env
        from jaxpat.patterns import load_registry

        # jaxpat's checking and observing code is imported before any plugin runs, so the registry's guard
        # (patterns/_guard.py) has it in its baseline and refuses a plugin whose import or hooks rebind it
        from . import _compare, _execute, _judge, _measure, _observe, _placement, _wire  # noqa: F401

        # read before any plugin code runs (a plugin can change os.environ); the judge checked the value
        _execute.set_budget(_env.memory_budget())
        self.counter = counter
        self.load_errors: list[dict[str, Any]] = []
        extra: list[tuple[str, object]] = []
        for name in ns.load:
            if name != ns.plugin:
                continue
            try:
                extra.append((name, importlib.import_module(name)))
            except BaseException:  # reported as a failing item; the other plugins are other processes
                self.load_errors.append({"plugin": name, "distribution": None, "message":
                                         f"plugin module {name!r} (--jaxpat-load) failed to import:\n"
                                         f"{traceback.format_exc()}"})
        from ._setup import PARSED, catalog_with_files

        # the shipped catalog and the --jaxpat-catalog files, parsed here (or, in a fork of the fork server, the
        # shipped one as the server parsed it before the fork): the parse cache is writable by any plugin, and
        # this copy builds the inputs (the judge reports invalid files)
        base, _ = catalog_with_files(ns.catalog, trust_cache=False, parsed=PARSED)
        self.registry = load_registry(extra_plugins=extra, only=ns.plugin, catalog=base)
        self.devices: dict[str, Any] = {}
        import jax
        from jax.extend.backend import backends

        for b in backends():
            for d in jax.devices(b):
                self.devices[f"{d.platform}:{d.id}"] = d
        # ready to run items: what it holds now is no cache's, and the memory budget counts from here (the module
        # bound before any plugin ran: a plugin may have put another in sys.modules)
        self.memory_baseline = _execute.set_baseline()

    def hello(self) -> dict[str, Any]:
        reg = self.registry
        plugins = [p for p in reg.plugins() if not p.name.startswith("catalog:")]
        return {
            "protocol": PROTOCOL,
            "pid": os.getpid(),
            "memory_baseline": self.memory_baseline,
            "plugins": [{"name": p.name, "distribution": p.distribution, "version": p.version,
                         "catalog_files": [str(f) for f in p.catalog_files]} for p in plugins],
            "implementations": [{"id": i.id, "name": i.name, "pattern": i.pattern, "plugin": i.plugin,
                                 "distribution": i.distribution or None} for i in reg.implementations()],
            "errors": self.load_errors + [
                {"plugin": getattr(e, "plugin", None), "distribution": getattr(e, "distribution", None) or None,
                 "message": str(getattr(e, "message", e))} for e in reg.errors],
        }

    def _impl(self, pattern: str, impl_id: str) -> Any:
        for impl in self.registry.implementations(pattern):
            if impl.id == impl_id:
                return impl
        raise LookupError(f"no implementation {impl_id!r} of {pattern!r} in this executor")

    def _spec(self, req: dict[str, Any]) -> Any:
        from ._execute import ItemSpec

        pattern = self.registry.catalog.get(req["pattern"])
        case = next(c for c in pattern.cases if c.id == req["case"])
        impl = self._impl(pattern.id, req["impl"])
        count = int(req.get("count") or 0)
        if count > 1:
            import jax

            devices = tuple(jax.devices(req["platform"])[:count])
            return ItemSpec(pattern, case, impl, devices[0], req["transform"], devices=devices)
        return ItemSpec(pattern, case, impl, self.devices[req["device"]], req["transform"])

    def _explore_spec(self, req: dict[str, Any]) -> Any:
        """An item of one generated example (``jaxpat check --explore``): the judge sends the arguments as
        catalog values (the value language, decoded here as a case's are) and the config; no expectation
        (the judge keeps the oracle's value)."""
        from jaxpat.catalog import Case, GradSpec, Provenance, decode

        from ._execute import ItemSpec

        pattern = self.registry.catalog.get(req["pattern"])
        sent = req.get("args")
        if not isinstance(sent, dict) or set(sent) != set(pattern.signature.args):
            raise ValueError(f"an explore request needs a value for each of {list(pattern.signature.args)}")
        args = {name: decode(sent[name], role="input", path=("args", name)) for name in pattern.signature.args}
        grad = None
        if req["transform"] == "grad":
            import dataclasses

            # the oracle's derivative is the check: no check_grads (a numerical check straddles the kinks that
            # drawn inputs reach, x near 0 in a branch), so the pattern's grad claim is not consulted here
            wrt = next(c.grad.wrt for c in pattern.cases if c.grad)
            grad = GradSpec(wrt, None)
            pattern = dataclasses.replace(pattern, claims=dataclasses.replace(pattern.claims, grad=None))
        case = Case(id="explore", args=args, expect=None, provenance=Provenance("oracle"),
                    transforms=(req["transform"],), grad=grad, config=dict(req.get("config") or {}))
        impl = self._impl(pattern.id, req["impl"])
        return ItemSpec(pattern, case, impl, self.devices[req["device"]], req["transform"])

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        from jaxpat.patterns import Unavailable

        from ._execute import observe_agreement, observe_case, release_pattern, snapshot_config, undo_config_changes

        op = req.get("op")
        # a new pattern: drop the last one's compiled programs once this process is over its memory budget
        released = release_pattern(str(req.get("pattern")))
        before_compiles = self.counter["compiles"]
        config_before = snapshot_config()
        try:
            if op == "case":
                answer: dict[str, Any] = {"obs": observe_case(self._spec(req))}
            elif op == "agree":
                specs = [self._spec({**req, "device": d, "count": 0}) for d in req["devices"]]
                answer = {"obs": observe_agreement(specs)}
            elif op == "explore":
                answer = {"obs": observe_case(self._explore_spec(req))}
            elif op == "claim":
                answer = {"claim": self._claim(req)}
            else:
                return {"error": f"unknown request {op!r}"}
        except Unavailable as exc:
            answer = {"unavailable": str(exc)}
        damage = undo_config_changes(config_before)
        if damage:
            answer["damage"] = damage
        answer["compiles"] = self.counter["compiles"] - before_compiles
        if released:
            answer["released"] = True  # this request's compilations include programs the release dropped
        from ._memory import peak_rss

        answer["peak_rss"] = peak_rss()  # the report's figure per process: here is where memory is used
        return answer

    def _claim(self, req: dict[str, Any]) -> dict[str, Any]:
        """The claim's figures (no verdict: the judge decides from them with its own catalog)."""
        from ._measure import collect_figures, speed_budget_for

        pattern = self.registry.catalog.get(req["pattern"])
        impl = self._impl(pattern.id, req["impl"])
        siblings = list(self.registry.implementations(pattern.id))
        device = self.devices[req["device"]]
        budget = req.get("speed_budget")
        try:
            figures = collect_figures(req["claim"], pattern, impl, device, siblings,
                                      speed_budget=speed_budget_for(budget * 3 if budget else None))
        except Exception as exc:
            from jaxpat._util import first_line

            return {"error": f"could not measure claim `{req['claim']}` of {pattern.id} for {impl.id}: "
                             f"{first_line(exc)}"}
        return {"figures": figures}



#: Written to stderr after each request's output, before its answer: the judge reads the output up to it.
END_OF_OUTPUT = "\x00jaxpat-end-of-output"


def _end_of_output(seq: Any) -> None:
    import contextlib

    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os.write(2, f"{END_OF_OUTPUT} {seq}\n".encode())


def _args(exc: BaseException) -> str:
    return f"({', '.join(repr(a) for a in exc.args)[:200]})" if exc.args else ""


def main(argv: list[str] | None = None) -> int:
    """Run an executor (or a probe) until its input closes."""
    p = argparse.ArgumentParser(prog="python -m jaxpat.conformance._executor")
    p.add_argument("--plugin")
    p.add_argument("--probe", action="store_true")
    p.add_argument("--load", action="append", default=[])
    p.add_argument("--catalog", action="append", default=[])
    p.add_argument("--platforms")
    p.add_argument("--all-devices", action="store_true")
    p.add_argument("--cache-dir")
    ns = p.parse_args(argv)
    inp, out = _channel()
    faulthandler.enable()
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    if ns.probe:
        try:
            answer = probe(ns.platforms, ns.all_devices)
        except BaseException:
            answer = {"protocol": PROTOCOL, "fatal": traceback.format_exc()[-4000:]}
        _send(out, answer)
        return 0
    try:
        counter = _setup_jax(ns.cache_dir)
        from jaxpat.patterns._session import PHASES

        def phase(plugin: str, stage: str, budget: float | None) -> None:
            # plugin code is about to run (or has ended): the judge enforces its budget by ending this process
            _send(out, {"phase": stage, "plugin": plugin, "budget": budget})

        PHASES.listener = phase
        server = _Server(ns, counter)
        PHASES.listener = None
        hello = server.hello()
    except BaseException:
        _send(out, {"protocol": PROTOCOL, "fatal": traceback.format_exc()[-4000:]})
        return 0
    _send(out, hello)
    # what is alive now (JAX's modules, the catalog, the registry, the plugin) lives as long as the process: out of
    # the garbage collector's walks, which the items' tracing triggers often (as the judge does, _session.py)
    gc.freeze()
    while True:
        req = _recv(inp)
        if req is None or req.get("op") == "bye":
            return 0
        try:
            answer = server.handle(req)
        except (KeyboardInterrupt, SystemExit, GeneratorExit) as exc:  # plugin code tried to end the process
            answer = {"ended": f"{type(exc).__name__}{_args(exc)}"}
        except BaseException as exc:  # a request this executor could not serve
            answer = {"broken": f"{type(exc).__name__}: {exc}"[:2000], "traceback": traceback.format_exc()[-3000:]}
        answer["seq"] = req.get("seq")
        _end_of_output(req.get("seq"))
        try:
            _send(out, answer)
        except ValueError as exc:  # NaN in figures: strict JSON only
            _send(out, {"seq": req.get("seq"), "broken": f"the answer is not strict JSON: {exc}"})


if __name__ == "__main__":
    _code = main()
    # Leave without the interpreter's finalization: with JAX loaded it takes 1-2 s (JAX's atexit handlers, freeing
    # every module), and the judge waits for this process to end at the probe and at the end of every run. Nothing
    # is left to do: answers are written unbuffered, the persistent compilation cache is written as programs compile.
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(_code)
