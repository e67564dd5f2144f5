"""The GPU stage of a season: the real embed pipeline against the model alone, on one device.

    PYTHONPATH=src python bench/gpu_embed.py --json gpu.json          # on a GPU node (about 5 minutes)
    PYTHONPATH=src python bench/gpu_embed.py --smoke                   # anywhere: a tiny model on CPU

It writes JPEG frames (generated, 1,600 x 1,200 px: decoding real-sized photos is part of the cost),
builds the paper's largest architecture at random weights (``vit_giant_patch14_dinov2`` at 224 px:
the arithmetic is that of the real weights; nothing is downloaded), and times
- *model alone*: the backbone on one pre-decoded, pre-normalised batch already on the device,
  repeated (bf16 autocast and channels-last on CUDA, as the pipeline uses them);
- *pipeline*: ``zsc.embedding.embed.embed_manifest`` on the frames, as the workflow's embed job runs
  it (JPEG decode and crop in worker processes, batching, pinned memory, bf16 autocast), for 1, 4 and
  8 decode workers;
and prints images/s of each and the pipeline / model ratio (goal >= 0.8). Needs torch, timm, pandas,
pyarrow and Pillow, not Snakemake.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def write_frames(folder: Path, n: int, size: tuple[int, int]) -> list[str]:
    """``n`` JPEGs of ``size`` with texture (not flat: decoding cost like a photo's)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, size=(size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    names = []
    for number in range(n):
        tile = np.roll(base, number * 7, axis=1)
        image = Image.fromarray(tile).resize(size, Image.BILINEAR)
        name = f"frame_{number:05d}.jpg"
        image.save(folder / name, quality=90)
        names.append(name)
    return names


def model_alone(backbone, device, batch_size: int, seconds: float) -> float:
    import torch

    from zsc.embedding.embed import AUTOCAST_DTYPES, normalise

    prep = backbone.preprocessing
    backbone.model.to(device, memory_format=torch.channels_last)
    pixels = torch.randint(0, 255, (batch_size, prep.img_size, prep.img_size, 3), dtype=torch.uint8)
    batch = normalise(pixels, prep, device, torch.float32)
    autocast = torch.autocast(device.type, dtype=AUTOCAST_DTYPES["bf16"]) if device.type == "cuda" else torch.no_grad()
    with torch.inference_mode(), autocast:
        backbone.forward(batch)
        if device.type == "cuda":
            torch.cuda.synchronize()
        started, done = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            backbone.forward(batch)
            done += batch_size
        if device.type == "cuda":
            torch.cuda.synchronize()
    return done / (time.perf_counter() - started)


def pipeline(
    backbone, root: Path, names: list[str], device: str, batch_size: int, workers: int, scratch: Path
) -> float:
    import pandas as pd

    from zsc.embedding.embed import embed_manifest

    manifest = pd.DataFrame({"image_id": names, "label": "", "group": ""})
    started = time.perf_counter()
    rejects = embed_manifest(
        backbone, manifest, root, scratch / f"emb-{workers}.parquet", {"model_name": "bench"},
        batch_size=batch_size, workers=workers, device=device, precision="bf16", progress=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if len(rejects):
        raise RuntimeError(f"{len(rejects)} frames rejected: {rejects.iloc[0].to_dict()}")
    return len(names) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-id", default="vit_giant_patch14_dinov2")
    parser.add_argument("--img-size", type=int, default=224)
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--frame", default="1600x1200")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", default="1,4,8")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model-seconds", type=float, default=20.0)
    parser.add_argument("--smoke", action="store_true", help="a tiny model, few small frames, CPU: checks the script")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.smoke:
        args.model_id, args.img_size, args.images, args.frame = "mobilenetv2_100", 64, 24, "320x240"
        args.batch_size, args.workers, args.device, args.model_seconds = 8, "0,1", "cpu", 1.0

    import torch

    from zsc.embedding.backbones import build_backbone
    from zsc.embedding.embed import pick_device

    device = pick_device(args.device)
    spec = {"backend": "timm", "id": args.model_id, "weights": "random", "img_size": args.img_size}
    backbone = build_backbone(args.model_id, spec)
    size = tuple(int(v) for v in args.frame.split("x"))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        started = time.perf_counter()
        names = write_frames(scratch / "frames", args.images, size)
        print(f"wrote {len(names)} frames of {args.frame} in {time.perf_counter() - started:.1f} s", flush=True)
        alone = model_alone(backbone, device, args.batch_size, args.model_seconds)
        print(f"model alone ({args.model_id}, {args.img_size} px, {device}): {alone:.1f} images/s", flush=True)
        for workers in (int(w) for w in args.workers.split(",")):
            rate = pipeline(backbone, scratch / "frames", names, args.device, args.batch_size, workers, scratch)
            rows.append(
                {
                    "stage": "embed",
                    "model": args.model_id,
                    "device": str(device),
                    "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else "",
                    "workers": workers,
                    "images": len(names),
                    "frame": args.frame,
                    "pipeline_images_per_s": rate,
                    "model_alone_images_per_s": alone,
                    "ratio": rate / alone,
                }
            )
            print(
                f"pipeline, {workers} decode worker(s): {rate:.1f} images/s, ratio {rate / alone:.2f} (goal >= 0.8)",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
