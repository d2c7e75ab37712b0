"""Accelerator-ready workers: which devices each xdist worker sees and how much memory it may take.

Everything here is decided from the environment and the host's device files,
before JAX starts and without initialising any accelerator: the controller
never imports JAX, and a worker sets these variables in ``pytest_configure``,
before its first ``import jax``. Standard library only.

- A worker ``gwI`` of ``N`` gets its own group of ``K`` devices (``--worker-devices K``,
  default 1; ``all``: every device): group ``I mod (devices // K)``. Visibility is
  ``CUDA_VISIBLE_DEVICES`` (NVIDIA), ``HIP_VISIBLE_DEVICES`` (AMD) or
  ``TPU_VISIBLE_CHIPS`` with one-chip process bounds (TPU, K = 1 only).
- On GPUs every worker allocates on demand (``XLA_PYTHON_CLIENT_PREALLOCATE=false``)
  and may use at most ``0.75 / (workers sharing its devices)`` of each device's
  memory (``XLA_PYTHON_CLIENT_MEM_FRACTION``; 0.75 is JAX's own default share).
  A value the user already set wins.
- ``-n auto`` starts one worker per device group on GPU and TPU hosts; on CPU
  hosts xdist's default (one per core) stands.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata

from jaxpat import _env

__all__ = ["Accelerators", "auto_workers", "discover", "parse_worker_devices", "worker_environment"]

#: JAX's default share of GPU memory (XLA_PYTHON_CLIENT_MEM_FRACTION's default).
JAX_DEFAULT_FRACTION = 0.75
#: ``JAXPAT_DEVICES=cuda:0,1,2,3`` declares the host's accelerators (tests; hosts where discovery fails).
OVERRIDE = "JAXPAT_DEVICES"
_VISIBLE = {"cuda": "CUDA_VISIBLE_DEVICES", "rocm": "HIP_VISIBLE_DEVICES", "tpu": "TPU_VISIBLE_CHIPS"}
#: Distributions whose presence means JAX can use that kind of accelerator.
_PLUGINS = {
    "cuda": ("jax-cuda12-plugin", "jax-cuda13-plugin", "jax-cuda11-plugin"),
    "rocm": ("jax-rocm60-plugin", "jax-rocm7-plugin", "jax-rocm-plugin"),
    "tpu": ("libtpu", "libtpu-nightly"),
}


@dataclass(frozen=True)
class Accelerators:
    """The accelerators this host offers JAX: ``platform`` (``cuda``, ``rocm``, ``tpu`` or ``cpu``) and their ids."""

    platform: str
    ids: tuple[str, ...] = ()
    source: str = ""

    @property
    def count(self) -> int:
        return len(self.ids)


def _installed(platform: str) -> bool:
    for dist in _PLUGINS.get(platform, ()):
        try:
            metadata.version(dist)
            return True
        except metadata.PackageNotFoundError:
            continue
    return False


def _id_list(value: str) -> tuple[str, ...]:
    ids = tuple(x.strip() for x in value.split(",") if x.strip())
    return () if ids in ((), ("-1",)) or any(x.startswith("-") for x in ids) else ids


def _nvidia_smi() -> tuple[str, ...]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return ()
    try:
        out = subprocess.run([exe, "--query-gpu=index", "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in out.splitlines() if line.strip().isdigit())


def discover(env: Mapping[str, str] | None = None, *, installed: Callable[[str], bool] = _installed) -> Accelerators:
    """The host's accelerators, without initialising any: environment, then ``nvidia-smi`` and device files.

    Order: ``JAXPAT_DEVICES=PLATFORM:ID,ID`` (explicit); ``JAX_PLATFORMS=cpu`` means none; then
    for each kind whose JAX plugin is installed — CUDA (``CUDA_VISIBLE_DEVICES``, else
    ``nvidia-smi``), ROCm (``HIP_VISIBLE_DEVICES``/``ROCR_VISIBLE_DEVICES``), TPU
    (``TPU_VISIBLE_CHIPS``, else ``/dev/accel*`` or ``/dev/vfio/N``).
    """
    env = os.environ if env is None else env
    override = _env.devices(env)  # a bad value raises _env.EnvError (a usage error)
    if override is not None:
        return Accelerators(*override, OVERRIDE)
    wanted = {p.strip() for p in env.get("JAX_PLATFORMS", "").lower().split(",") if p.strip()}
    if wanted and not wanted & {"cuda", "gpu", "rocm", "tpu"}:
        return Accelerators("cpu", (), "JAX_PLATFORMS")
    if installed("cuda") and (not wanted or wanted & {"cuda", "gpu"}):
        if "CUDA_VISIBLE_DEVICES" in env:
            return Accelerators("cuda", _id_list(env["CUDA_VISIBLE_DEVICES"]), "CUDA_VISIBLE_DEVICES")
        found = _nvidia_smi()
        if found:
            return Accelerators("cuda", found, "nvidia-smi")
    if installed("rocm") and (not wanted or wanted & {"rocm", "gpu"}):
        for var in ("HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"):
            if var in env:
                return Accelerators("rocm", _id_list(env[var]), var)
    if installed("tpu") and (not wanted or "tpu" in wanted):
        if "TPU_VISIBLE_CHIPS" in env:
            return Accelerators("tpu", _id_list(env["TPU_VISIBLE_CHIPS"]), "TPU_VISIBLE_CHIPS")
        chips = sorted(glob.glob("/dev/accel*")) or sorted(p for p in glob.glob("/dev/vfio/*") if p[-1].isdigit())
        if chips:
            return Accelerators("tpu", tuple(str(i) for i in range(len(chips))), "/dev")
    return Accelerators("cpu", (), "no accelerator found")


def parse_worker_devices(value: str | int | None) -> int | None:
    """``--worker-devices``: a positive count, or ``all`` (None)."""
    if value is None:
        return 1
    if isinstance(value, int):
        count = value
    elif str(value).strip().lower() == "all":
        return None
    else:
        try:
            count = int(str(value))
        except ValueError:
            count = 0
    if count < 1:
        raise ValueError(f"--worker-devices takes a positive count or 'all', got {value!r}")
    return count


def _group_size(acc: Accelerators, per_worker: int | None) -> int:
    if per_worker is None or (acc.platform == "tpu" and per_worker != 1):
        return acc.count  # TPU process bounds are set for one chip per process only
    return max(1, min(per_worker, acc.count))


def auto_workers(acc: Accelerators, per_worker: int | None) -> int | None:
    """``-n auto`` on an accelerator host: one worker per device group; None on CPU hosts (xdist decides)."""
    if acc.platform == "cpu" or not acc.count:
        return None
    return max(1, acc.count // _group_size(acc, per_worker))


def worker_environment(acc: Accelerators, worker: int, workers: int, per_worker: int | None,
                       env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables worker number ``worker`` (of ``workers``) sets before JAX starts.

    Memory and preallocation settings keep a value already in ``env`` (the user's).
    """
    env = os.environ if env is None else env
    out: dict[str, str] = {}
    if acc.platform in ("cuda", "rocm", "cpu"):
        out["XLA_PYTHON_CLIENT_PREALLOCATE"] = env.get("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if acc.platform == "cpu" or not acc.count:
        return out
    size = _group_size(acc, per_worker)
    groups = max(1, acc.count // size)
    group = worker % groups
    mine = acc.ids[group * size:(group + 1) * size]
    sharing = len(range(group, max(workers, 1), groups)) or 1
    out[_VISIBLE[acc.platform]] = ",".join(mine)
    if acc.platform in ("cuda", "rocm"):
        out["XLA_PYTHON_CLIENT_MEM_FRACTION"] = env.get(
            "XLA_PYTHON_CLIENT_MEM_FRACTION", f"{JAX_DEFAULT_FRACTION / sharing:.3f}")
    elif acc.platform == "tpu" and size == 1:
        # one chip per process (Cloud TPU's documented multi-process settings)
        out.update({"TPU_VISIBLE_DEVICES": ",".join(mine), "TPU_CHIPS_PER_PROCESS_BOUNDS": "1,1,1",
                    "TPU_PROCESS_BOUNDS": "1,1,1", "TPU_PROCESS_PORT": str(8476 + worker)})
    return out
