"""Backbone registry: config entry -> (feature extractor, preprocessing spec).

Backends are entries of ``BACKENDS`` (timm, open_clip); adding one is a function
that returns a :class:`Backbone`. Every backbone maps a float batch (N, 3, H, W),
normalised per its :class:`Preprocessing`, to (N, D) features.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch

from zsc import layout
from zsc.embedding.torchvision_compat import ensure_torchvision
from zsc.embedding.weights import WeightsError, load_local_file, load_packaged

POOLING_TO_TIMM = {"cls": "token", "mean": "avg", "default": None}
KEEP_HEAD = "projection"  # CLIP-style timm models: the head is the image-text projection (encode_image)
WEIGHTS_DIR = Path(layout.WEIGHTS_DIR)
RANDOM_INIT_SEED = 0  # random weights are seeded too, so a rerun reproduces them
RANDOM_SOURCE = f"random-init seed {RANDOM_INIT_SEED} (plumbing only; measures nothing)"


@dataclass(frozen=True)
class Preprocessing:
    img_size: int
    resize_size: int  # shorter side before the centre crop
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str  # "bicubic" | "bilinear"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Backbone:
    model: torch.nn.Module
    preprocessing: Preprocessing
    forward: Callable[[torch.Tensor], torch.Tensor]
    weights_source: str


def local_weights_path(model_name: str, weights_dir: Path = WEIGHTS_DIR) -> Path:
    """Where ``fetch_weights`` stores a model's hub weights for offline nodes (layout.WEIGHTS)."""
    return Path(weights_dir) / Path(layout.fill(layout.WEIGHTS, model=model_name)).name


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0", "false", "False")


def _missing_weights_error(model_name: str, spec: dict, local: Path) -> WeightsError:
    return WeightsError(
        f"model '{model_name}' ({spec['id']}): weights are not in {local} "
        f"and the hub is offline. On a node with internet run:\n"
        f"    snakemake --cores 1 fetch_weights --configfile <your config>\n"
        f"or set `weights:` to a local file, or `random` for plumbing tests only."
    )


def _reset_head(model: torch.nn.Module, model_name: str, spec: dict) -> None:
    """Drop the classifier so the model returns pooled features, with the configured pooling
    (pooling 'projection' keeps a CLIP model's head: its projection into the shared space)."""
    if spec.get("pooling") == KEEP_HEAD:
        if getattr(model, "num_classes", 0) <= 0:
            raise WeightsError(
                f"model '{model_name}': pooling 'projection' needs a model whose head is a "
                f"projection; {spec['id']} has none"
            )
        return
    pool = POOLING_TO_TIMM[spec.get("pooling", "default")]
    try:
        model.reset_classifier(0, **({"global_pool": pool} if pool else {}))
    except (AssertionError, ValueError, TypeError, KeyError) as error:
        raise WeightsError(
            f"model '{model_name}': pooling '{spec['pooling']}' is not supported by {spec['id']} ({error})"
        ) from None


def _timm_create(spec: dict, pretrained: bool):
    """timm.create_model at the configured input size: a ViT is built for img_size (its position
    embedding resampled from the checkpoint's); a CNN takes any size and has no img_size argument."""
    import timm

    if spec.get("img_size"):
        try:
            return timm.create_model(spec["id"], pretrained=pretrained, img_size=spec["img_size"])
        except TypeError:
            pass
    return timm.create_model(spec["id"], pretrained=pretrained)


def _create_timm(model_name: str, spec: dict, weights_dir: Path):
    """(model without head, weights description)."""

    weights = spec.get("weights", "hub")
    local = local_weights_path(model_name, weights_dir)
    torch.manual_seed(RANDOM_INIT_SEED)
    download = weights == "hub" and not local.is_file() and not _hub_offline()
    try:
        model = _timm_create(spec, download)
    except RuntimeError as error:  # timm: "Unknown model (...)"
        raise WeightsError(f"model '{model_name}': timm cannot create '{spec['id']}' ({error})") from None
    except OSError as error:  # huggingface_hub: no connection, no such repo, ...
        raise _download_error(model_name, spec, error) from None
    if weights.startswith("package:"):  # the packaged state dicts include the ImageNet classifier
        source = load_packaged(model, weights.split(":", 1)[1], spec["id"])
        _reset_head(model, model_name, spec)
        return model, source
    _reset_head(model, model_name, spec)
    if weights == "random":
        return model, RANDOM_SOURCE
    if weights != "hub":
        return model, load_local_file(model, Path(weights))
    if local.is_file():
        return model, load_local_file(model, local)
    if _hub_offline():
        raise _missing_weights_error(model_name, spec, local)
    return model, f"hub:{model.pretrained_cfg.get('hf_hub_id') or spec['id']}"


def _download_error(model_name: str, spec: dict, error: Exception) -> WeightsError:
    return WeightsError(
        f"model '{model_name}' ({spec['id']}): could not download its weights from the hub "
        f"({type(error).__name__}: {str(error)[:300]}). Downloading needs internet: run "
        f"`snakemake --cores 1 fetch_weights_all` on a node that has it, or set `weights:` to a local file."
    )


def _timm_backbone(model_name: str, spec: dict, weights_dir: Path) -> Backbone:
    ensure_torchvision()
    import timm

    model, source = _create_timm(model_name, spec, weights_dir)
    data_config = timm.data.resolve_data_config({}, model=model)
    img_size = int(spec.get("img_size") or data_config["input_size"][-1])
    crop_pct = float(data_config.get("crop_pct") or 0.875)
    preprocessing = Preprocessing(
        img_size=img_size,
        resize_size=int(spec.get("resize_size") or round(img_size / crop_pct)),
        mean=tuple(float(m) for m in data_config["mean"]),
        std=tuple(float(s) for s in data_config["std"]),
        interpolation="bicubic" if data_config.get("interpolation") == "bicubic" else "bilinear",
    )
    return Backbone(model=model, preprocessing=preprocessing, forward=model, weights_source=source)


def _open_clip_backbone(model_name: str, spec: dict, weights_dir: Path) -> Backbone:
    ensure_torchvision()  # open_clip imports torchvision's transforms
    import open_clip

    weights = spec.get("weights", "hub")
    local = local_weights_path(model_name, weights_dir)
    pretrained = None
    if weights == "hub":
        if local.is_file():
            pretrained = str(local)
        elif _hub_offline():
            raise _missing_weights_error(model_name, spec, local)
    elif weights not in ("random",):
        pretrained = weights
    architecture = spec["id"]
    torch.manual_seed(RANDOM_INIT_SEED)
    if weights == "hub" and pretrained is None:
        try:
            model = open_clip.create_model_and_transforms(architecture, device=torch.get_default_device())[0]
        except OSError as error:
            raise _download_error(model_name, spec, error) from None
    else:
        architecture = spec.get("architecture", architecture)
        model = open_clip.create_model(architecture, pretrained=pretrained, device=torch.get_default_device())
    visual = model.visual
    size = visual.image_size[0] if isinstance(visual.image_size, (tuple, list)) else visual.image_size
    img_size = int(spec.get("img_size") or size)
    preprocessing = Preprocessing(
        img_size=img_size,
        resize_size=int(spec.get("resize_size") or img_size),
        mean=tuple(getattr(visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN),
        std=tuple(getattr(visual, "image_std", None) or open_clip.OPENAI_DATASET_STD),
        interpolation="bicubic",
    )
    source = RANDOM_SOURCE if weights == "random" else f"open_clip:{pretrained or architecture}"
    return Backbone(model=model, preprocessing=preprocessing, forward=model.encode_image, weights_source=source)


BACKENDS: dict[str, Callable[[str, dict, Path], Backbone]] = {
    "timm": _timm_backbone,
    "open_clip": _open_clip_backbone,
}


def build_backbone(model_name: str, spec: dict, weights_dir: Path = WEIGHTS_DIR) -> Backbone:
    """Instantiate the configured model in eval mode, with its weights loaded."""
    backend = spec.get("backend", "timm")
    if backend not in BACKENDS:
        raise WeightsError(f"model '{model_name}': unknown backend '{backend}'; known: {sorted(BACKENDS)}")
    backbone = BACKENDS[backend](model_name, spec, Path(weights_dir))
    backbone.model.eval()
    return backbone
