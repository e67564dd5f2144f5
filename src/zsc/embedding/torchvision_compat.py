"""Make ``import torchvision`` (and therefore ``import timm``) work next to a CPU torch.

PyPI's x86_64 torchvision wheel is a CUDA build. Next to a CPU build of torch
its C++ extension (``torchvision/_C.so``) cannot load; torchvision then skips
its custom ops but still registers fake kernels for ``torchvision::nms`` and
``torchvision::qnms`` at import, which fails with::

    RuntimeError: operator torchvision::nms does not exist

timm imports torchvision for its transforms, so timm fails too. We use only the
pure-Python parts of torchvision (transforms), never its detection ops, so the
fix is to declare those two op schemas (without kernels) and import again.
Calling ``torchvision.ops.nms`` afterwards still raises a clear "no kernel"
error rather than doing anything wrong.

Where torchvision imports normally (a matched CPU or CUDA install on a
cluster), :func:`ensure_torchvision` just imports it and changes nothing.
"""

from __future__ import annotations

import importlib.util
import sys

_MISSING_OP_MESSAGE = "torchvision::nms does not exist"
_OP_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_library_handle = None  # keeps the op definitions alive for the whole process
patched = False  # True once the fallback was needed; recorded in embedding metadata


def _declare_missing_ops() -> None:
    global _library_handle
    import torch

    _library_handle = torch.library.Library("torchvision", "FRAGMENT")
    for schema in _OP_SCHEMAS:
        _library_handle.define(schema)


def _forget_partial_import() -> None:
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]


def ensure_torchvision():
    """Import torchvision; if only its C++ ops fail to load, declare them and import again."""
    global patched
    if importlib.util.find_spec("torchvision") is None:
        raise ImportError(
            "torchvision is not installed, and timm needs it. Run the install step in "
            "README.md (`make setup`), which pins torch==2.13.0 and torchvision==0.28.0."
        )
    try:
        import torchvision
    except RuntimeError as error:
        if _MISSING_OP_MESSAGE not in str(error):
            raise
        _forget_partial_import()
        _declare_missing_ops()
        patched = True
        import torchvision
    return torchvision
