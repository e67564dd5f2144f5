"""Embed every manifest image with one backbone, streaming rows to parquet.

Decoding runs in DataLoader worker processes and yields uint8 crops; the main
process normalises whole batches (on the GPU when there is one) and writes one
parquet row group per few batches, so memory does not grow with the dataset.
"""

from __future__ import annotations

import contextlib
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import PIL
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from PIL import Image

from zsc import __version__
from zsc.data.images import ImageRejected, open_rgb
from zsc.data.scan import REJECT_COLUMNS
from zsc.embedding.backbones import Backbone, Preprocessing
from zsc.io import atomic_path, log

RESAMPLE = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}
ROWS_PER_ROW_GROUP = 4096


MAX_ASPECT_BEFORE_RESIZE = 2.0


def crop_uint8(image: Image.Image, prep: Preprocessing) -> np.ndarray:
    """Resize the shorter side to ``resize_size``, centre-crop ``img_size``; HWC uint8.

    The long side is first trimmed (centred) to at most twice the short side: the final centre
    crop never reaches further, and an 8 x 150,000 image would otherwise be upscaled to
    224 x 4,200,000 pixels (gigabytes) before being cropped.
    """
    width, height = image.size
    limit = math.ceil(min(width, height) * MAX_ASPECT_BEFORE_RESIZE)
    if width > limit:
        left = (width - limit) // 2
        image = image.crop((left, 0, left + limit, height))
    elif height > limit:
        top = (height - limit) // 2
        image = image.crop((0, top, width, top + limit))
    width, height = image.size
    scale = prep.resize_size / min(width, height)
    new_size = (max(prep.img_size, round(width * scale)), max(prep.img_size, round(height * scale)))
    image = image.resize(new_size, RESAMPLE[prep.interpolation])
    left = (new_size[0] - prep.img_size) // 2
    top = (new_size[1] - prep.img_size) // 2
    image = image.crop((left, top, left + prep.img_size, top + prep.img_size))
    return np.array(image, dtype=np.uint8)  # a writable copy, as torch.from_numpy expects


class ImageFolderDataset(torch.utils.data.Dataset):
    """Decodes ``root/image_id``; a failure becomes a reason string, not an exception."""

    def __init__(self, root: Path, image_ids: list[str], prep: Preprocessing):
        self.root, self.image_ids, self.prep = Path(root), list(image_ids), prep

    def __len__(self) -> int:
        return len(self.image_ids)

    def __getitem__(self, index: int):
        try:
            image = open_rgb(self.root / self.image_ids[index], draft_size=self.prep.resize_size)
            return index, torch.from_numpy(crop_uint8(image, self.prep)), None
        except ImageRejected as error:
            return index, None, str(error)
        except OSError as error:
            return index, None, f"unreadable: {error}"


def collate(items):
    """Stack decodable images; keep the failures' indices and reasons."""
    good = [(index, pixels) for index, pixels, _ in items if pixels is not None]
    failed = [(index, reason) for index, pixels, reason in items if pixels is None]
    indices = torch.tensor([index for index, _ in good], dtype=torch.long)
    pixels = torch.stack([p for _, p in good]) if good else torch.empty(0, dtype=torch.uint8)
    return indices, pixels, failed


def normalise(batch_uint8: torch.Tensor, prep: Preprocessing, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """NHWC uint8 -> NCHW float, channels-last memory, normalised."""
    batch = batch_uint8.to(device, non_blocking=True).permute(0, 3, 1, 2).to(dtype) / 255.0
    mean = torch.tensor(prep.mean, device=device, dtype=dtype).view(1, 3, 1, 1)
    std = torch.tensor(prep.std, device=device, dtype=dtype).view(1, 3, 1, 1)
    return ((batch - mean) / std).contiguous(memory_format=torch.channels_last)


def pad_batch(pixels: torch.Tensor, batch_size: int) -> torch.Tensor:
    """A short (last) batch padded with black images to ``batch_size`` rows.

    On the CPU a photo's embedding then depends only on its own pixels and the batch shape, never on
    which photos share its batch or how many they are (measured bit-exact for CNNs and ViTs in
    tests/test_hostile_probes.py): a warm cache, a shard count or an added photo change no number."""
    missing = batch_size - len(pixels)
    if missing <= 0:
        return pixels
    return torch.cat([pixels, pixels.new_zeros((missing, *pixels.shape[1:]))])


def embedding_dim(backbone: Backbone) -> int:
    """The length of the backbone's embedding, from one black image (for a file with no rows)."""
    size = backbone.preprocessing.img_size
    with torch.inference_mode():
        pixels = torch.zeros((1, size, size, 3), dtype=torch.uint8)
        return int(
            backbone.forward(normalise(pixels, backbone.preprocessing, torch.device("cpu"), torch.float32)).shape[1]
        )


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}


def embedding_schema(dim: int, metadata: dict) -> pa.Schema:
    return pa.schema(
        [
            ("image_id", pa.string()),
            ("label", pa.string()),
            ("group", pa.string()),
            ("embedding", pa.list_(pa.float32(), dim)),
        ],
        metadata={"zsc": json.dumps(metadata, sort_keys=True)},
    )


def progress_lines(batches, n_images: int, desc: str, enabled: bool = True, every_seconds: float = 30.0, stream=None):
    """Yield ``batches`` (index tensors first) and report progress: a live bar on a terminal, and in a
    log file one readable line every ``every_seconds`` (tqdm's carriage returns make one huge line)."""
    stream = stream or sys.stderr
    if not enabled:
        yield from batches
        return
    if stream.isatty():
        from tqdm import tqdm

        yield from tqdm(batches, unit="batch", desc=desc, file=stream)
        return
    started = last = time.perf_counter()
    done = 0
    for number, batch in enumerate(batches, start=1):
        yield batch
        done += len(batch[0]) + len(batch[2])
        now = time.perf_counter()
        if number == 1 or now - last >= every_seconds or done >= n_images:
            last = now
            print(
                f"{desc}: {done}/{n_images} images ({100 * done / max(n_images, 1):.0f}%), "
                f"{done / max(now - started, 1e-9):.1f} img/s",
                file=stream,
                flush=True,
            )


def embed_manifest(
    backbone: Backbone,
    manifest: pd.DataFrame,
    image_root: Path,
    output_path: Path,
    metadata: dict,
    batch_size: int = 32,
    workers: int = 2,
    device: str = "auto",
    precision: str = "bf16",
    progress: bool = True,
) -> pd.DataFrame:
    """Write embeddings of ``manifest`` rows to ``output_path``; return the rejects.

    The file appears only when complete (written under a temporary name, then renamed).
    """
    torch_device = pick_device(device)
    backbone.model.to(torch_device, memory_format=torch.channels_last)  # in place; forward() uses it
    prep = backbone.preprocessing
    autocast_dtype = AUTOCAST_DTYPES[precision] if torch_device.type == "cuda" else None
    dataset = ImageFolderDataset(image_root, manifest["image_id"].tolist(), prep)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=collate,
        pin_memory=torch_device.type == "cuda",
        persistent_workers=False,
        prefetch_factor=4 if workers > 0 else None,
    )
    labels, groups, ids = manifest["label"].tolist(), manifest["group"].tolist(), manifest["image_id"].tolist()
    rejects: list[tuple[str, str, str]] = []
    writer = None
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    started = time.perf_counter()
    autocast = torch.autocast(torch_device.type, dtype=autocast_dtype) if autocast_dtype else contextlib.nullcontext()
    with atomic_path(output_path) as temporary, torch.inference_mode(), autocast:
        for indices, pixels, failed in progress_lines(
            loader, len(manifest), f"embed {metadata.get('model_name', '')}", enabled=progress
        ):
            rejects.extend((ids[i], "embed", reason) for i, reason in failed)
            if len(indices) == 0:
                continue
            features = backbone.forward(normalise(pad_batch(pixels, batch_size), prep, torch_device, torch.float32))
            features = features[: len(indices)].float().cpu().numpy()
            if writer is None:
                metadata["embedding_dim"] = int(features.shape[1])
                writer = pq.ParquetWriter(temporary, embedding_schema(features.shape[1], metadata))
            rows = indices.numpy()
            pending.append(
                pa.record_batch(
                    [
                        pa.array([ids[i] for i in rows]),
                        pa.array([labels[i] for i in rows]),
                        pa.array([groups[i] for i in rows]),
                        pa.FixedSizeListArray.from_arrays(
                            pa.array(features.reshape(-1), pa.float32()), features.shape[1]
                        ),
                    ],
                    schema=writer.schema,
                )
            )
            pending_rows += len(rows)
            if pending_rows >= ROWS_PER_ROW_GROUP:
                writer.write_table(pa.Table.from_batches(pending))
                pending, pending_rows = [], 0
        if writer is None:  # nothing decodable: no file (the caller decides whether that is an error)
            return pd.DataFrame(rejects, columns=REJECT_COLUMNS)
        if pending:
            writer.write_table(pa.Table.from_batches(pending))
        writer.close()
    seconds = time.perf_counter() - started
    log(f"embedded {len(manifest) - len(rejects)} images in {seconds:.1f} s")
    return pd.DataFrame(rejects, columns=REJECT_COLUMNS)


def write_embedding_file(frame: pd.DataFrame, matrix: np.ndarray, metadata: dict, path: Path | str) -> None:
    """The per-dataset (or per-shard) embedding parquet: image_id/label/group + embedding, in the
    frame's order, fixed row groups. Same rows + same metadata = the same bytes, however they were made."""
    dim = int(np.shape(matrix)[1]) if len(frame) else int(metadata.get("embedding_dim", 0))
    matrix = np.ascontiguousarray(matrix, dtype=np.float32).reshape(len(frame), dim)
    schema = embedding_schema(dim, {**metadata, "embedding_dim": dim})
    with atomic_path(path) as temporary, pq.ParquetWriter(temporary, schema) as writer:
        for start in range(0, max(len(frame), 1), ROWS_PER_ROW_GROUP):
            part = slice(start, start + ROWS_PER_ROW_GROUP)
            block = matrix[part]
            writer.write_table(
                pa.table(
                    [
                        pa.array(frame["image_id"].iloc[part].tolist(), pa.string()),
                        pa.array(frame["label"].iloc[part].tolist(), pa.string()),
                        pa.array(frame["group"].iloc[part].tolist(), pa.string()),
                        pa.FixedSizeListArray.from_arrays(pa.array(block.reshape(-1), pa.float32()), dim),
                    ],
                    schema=schema,
                )
            )


def run_metadata(model_name: str, spec: dict, backbone: Backbone, manifest_fingerprint: str) -> dict:
    """What the embedding parquet records about how it was made."""
    from zsc.embedding import torchvision_compat

    torchvision_compat.ensure_torchvision()
    import timm

    return {
        "model_name": model_name,
        "model_spec": spec,
        "weights_source": backbone.weights_source,
        "preprocessing": backbone.preprocessing.as_dict(),
        "manifest_fingerprint": manifest_fingerprint,
        "versions": {
            "zsc": __version__,
            "torch": torch.__version__,
            "timm": timm.__version__,
            "pillow": PIL.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "torchvision_ops_patched": torchvision_compat.patched,
        },
    }


def embed_with_cache(
    backbone: Backbone,
    manifest: pd.DataFrame,
    root: Path,
    cache,
    metadata: dict,
    spec: dict,
    device: str,
    workers: int,
    scratch: Path,
) -> tuple[dict, pd.DataFrame, int, int]:
    """(content hash -> embedding for every photo of ``manifest`` that has one, rejects, photos found in
    the cache, photos embedded now). Only photos the cache lacks run through the model, each content
    once (exact duplicates share it); they join the cache as one new segment. ``scratch`` is where the
    new embeddings stream to (bounded memory) before they join the cache."""
    found = cache.lookup(manifest["content_hash"])
    n_cached = int(manifest["content_hash"].isin(list(found)).sum())
    todo = manifest[~manifest["content_hash"].isin(list(found))].drop_duplicates("content_hash").reset_index(drop=True)
    rejects = pd.DataFrame(columns=REJECT_COLUMNS)
    if len(todo):
        few = len(todo) <= 4 * spec["batch_size"]  # decoding a few photos in-process beats starting workers
        rejects = embed_manifest(
            backbone,
            todo,
            root,
            scratch,
            dict(metadata),
            batch_size=spec["batch_size"],
            workers=0 if few else workers,
            device=device,
            precision=spec["precision"],
        )
        if scratch.exists():
            from zsc.io import read_embeddings

            frame, matrix = read_embeddings(scratch)
            hashes = frame["image_id"].map(todo.set_index("image_id")["content_hash"]).tolist()
            cache.add(hashes, matrix)
            found.update(zip(hashes, matrix))
            scratch.unlink()
    n_embedded = int(len(todo) - len(rejects))
    if len(rejects):  # a photo that failed takes its exact duplicates with it, each with the reason
        reason_of = dict(zip(todo.set_index("image_id").loc[rejects["image_id"], "content_hash"], rejects["reason"]))
        twins = manifest[
            manifest["content_hash"].isin(list(reason_of)) & ~manifest["image_id"].isin(rejects["image_id"])
        ]
        rejects = pd.concat(
            [
                rejects,
                pd.DataFrame(
                    {"image_id": twins["image_id"], "stage": "embed", "reason": twins["content_hash"].map(reason_of)}
                ),
            ],
            ignore_index=True,
        ).sort_values("image_id", ignore_index=True)
    return found, rejects, n_cached, n_embedded
