"""Environment variables every job process starts with (set by the Snakefile, inherited by jobs).

glibc's malloc hands large buffers (> 32 MiB at most, by default) back to the
kernel on every free; CNN activation buffers are that large, so CPU inference
spent more time mapping and unmapping memory than computing. Raising both
thresholds keeps the buffers in the heap: MobileNetV2 alone, batch 32, 2 threads,
channels-last, went from 57.7 to 85.7 img/s on this project's 2-core machine
(`python bench/bench.py --only malloc`). They must be set before the process starts.

numba (used by UMAP) compiles its kernels in every new process unless it can
cache them on disk; a shared cache directory makes the compile a one-off.
"""

from __future__ import annotations

import os
from pathlib import Path

MALLOC_SETTINGS = {
    "MALLOC_MMAP_THRESHOLD_": "4294967296",
    "MALLOC_TRIM_THRESHOLD_": "4294967296",
}


def job_environment(resources_dir: Path | str = "resources") -> dict[str, str]:
    return {**MALLOC_SETTINGS, "NUMBA_CACHE_DIR": str(Path(resources_dir, "numba_cache").resolve())}


def apply(resources_dir: Path | str = "resources", hub_offline: bool = False) -> None:
    """Set each variable unless the user already chose a value; HF_HUB_OFFLINE=1 for offline clusters."""
    for key, value in job_environment(resources_dir).items():
        os.environ.setdefault(key, value)
    if hub_offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
