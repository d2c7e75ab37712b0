"""The registry's errors: one exception type, and the record of a plugin that failed.

:class:`PluginValidationError` is the one domain error: it is raised by
``load_registry(strict=True)`` and by :func:`jaxpat.patterns.testing.check_plugin`.
Without ``strict`` the same text is kept, in a :class:`PluginLoadError`
record, in ``Registry.errors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PluginLoadError", "PluginValidationError", "Problem", "format_problems"]


class PluginValidationError(Exception):
    """The plugin ``plugin`` (its name) broke a registration rule.

    ``message`` is multi-line: the plugin, its distribution, then for each
    problem the hook, the implementation, the pattern, the rule broken and
    how to fix it.
    """

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(message)
        self.plugin = plugin
        self.message = message


@dataclass(frozen=True)
class Problem:
    """One broken rule, located as precisely as the registry can.

    ``title`` is a few words ("unknown pattern id"); ``rule`` says what is
    required and what was found; ``fix`` says what to change. The location
    fields are empty where they do not apply.
    """

    title: str
    rule: str
    fix: str
    hook: str = ""
    implementation: str = ""
    pattern: str = ""


@dataclass(frozen=True)
class PluginLoadError:
    """A plugin that was not registered, and why.

    ``stage`` is where it failed: ``import`` (its entry point did not
    import), ``register`` (its name or hooks were refused), or the hook that
    failed, ``jaxpat_catalog_files`` or ``jaxpat_implementations``.
    ``message`` is the full multi-line explanation; ``traceback`` is the
    original formatted traceback when an exception caused the failure, else
    ``""``.
    """

    plugin: str
    distribution: str
    version: str
    module: str
    stage: str
    message: str
    traceback: str = ""

    def __str__(self) -> str:
        return f"{self.message}\n{self.traceback}".rstrip() if self.traceback else self.message

    def to_dict(self) -> dict[str, str]:
        """Plain data for JSON output (keys are stable)."""
        return {
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "stage": self.stage,
            "message": self.message,
            "traceback": self.traceback,
        }


def format_problems(plugin: str, origin: str, problems: Sequence[Problem]) -> str:
    """Return the multi-line message for ``problems`` of plugin ``plugin``.

    ``origin`` describes where the plugin comes from, e.g.
    ``"jaxpat-example-plugin 0.1.0, module jaxpat_example_plugin"``.
    """
    n = len(problems)
    lines = [
        f"jaxpat plugin {plugin!r} was not registered ({n} problem{'s' if n != 1 else ''}; "
        "nothing from it was registered).",
        f"  plugin:         {plugin}",
        f"  distribution:   {origin}",
    ]
    for i, p in enumerate(problems, 1):
        lines.append(f"problem {i} of {n}: {p.title}")
        for label, value in (("hook", p.hook), ("implementation", p.implementation), ("pattern", p.pattern)):
            if value:
                lines.append(f"  {label + ':':<15} {value}")
        lines.append(f"  {'rule:':<15} {_indent(p.rule)}")
        lines.append(f"  {'fix:':<15} {_indent(p.fix)}")
    return "\n".join(lines)


def _indent(text: str) -> str:
    # Continuation lines line up under the value column of the labels above.
    return text.replace("\n", "\n" + " " * 18)
