"""The pluggy markers; created once, imported by plugin authors."""

import pluggy

PROJECT = "jaxpat"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Decorate a plugin's hook functions with this marker.
hookimpl = pluggy.HookimplMarker(PROJECT)
