"""A bad-input corpus, generated (no committed binaries): every odd file a real photo folder holds.

``build(root)`` writes it and returns {relative path: expected outcome}, where the outcome
is "use" or a substring of the recorded reject reason.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from zsc.data.demo import render

EXIF_ORIENTATION = 0x0112


def _photo(seed: int, species: str = "disc_stripes", size: int = 96) -> Image.Image:
    return render(species, np.random.default_rng(seed), size)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (the decompression-bomb check reads only that)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    )


def orientation_pair() -> tuple[Image.Image, Image.Image]:
    """(stored pixels, how they must look upright) for EXIF orientation 6 (rotate 90 degrees clockwise)."""
    stored = Image.new("RGB", (96, 64), (220, 30, 30))
    stored.paste(Image.new("RGB", (48, 64), (30, 30, 220)), (48, 0))
    stored.paste(_photo(99, "star_solid", 40), (4, 12))
    return stored, stored.transpose(Image.Transpose.ROTATE_270)


def build(root: Path) -> dict[str, str]:
    root = Path(root)
    expected: dict[str, str] = {}

    def save(relative: str, image: Image.Image, outcome: str = "use", **options) -> Path:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, **options)
        expected[relative] = outcome
        return path

    def write(relative: str, data: bytes, outcome: str) -> Path:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected[relative] = outcome
        return path

    # healthy species so the workflow has something to cluster
    for species_index, species in enumerate(("disc_stripes", "star_solid", "square_checks")):
        for i in range(8):
            save(
                f"Birds/{species}/{species}_{i}.jpg",
                render(species, np.random.default_rng([species_index, i]), 96),
                quality=90,
            )

    odd = "Birds/odd_formats"
    photo = _photo(1)
    save(f"{odd}/cmyk.jpg", photo.convert("CMYK"))
    sixteen = np.asarray(photo.convert("L"), dtype=np.uint16) * 257
    save(f"{odd}/sixteen_bit.png", Image.fromarray(sixteen))  # uint16 -> mode I;16
    save(f"{odd}/palette.png", photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(photo.size))
    save(f"{odd}/transparent.png", rgba)
    save(f"{odd}/greyscale.jpg", photo.convert("L"))
    frames = [_photo(seed) for seed in (2, 3, 4)]
    save(f"{odd}/animated.gif", frames[0], save_all=True, append_images=frames[1:], duration=100, loop=0)
    save(f"{odd}/photo.webp", _photo(5))
    save(f"{odd}/photo.tiff", _photo(6))
    save(f"{odd}/näme with spaces ü.jpg", _photo(7))
    stored, _ = orientation_pair()
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    save(f"{odd}/exif_rotated.png", stored, exif=exif)
    save(f"{odd}/upright_copy.png", orientation_pair()[1])
    duplicate_source = save(f"{odd}/original.jpg", _photo(8))
    write(
        f"{odd}/zz_exact_copy.jpg", duplicate_source.read_bytes(), "exact duplicate of Birds/odd_formats/original.jpg"
    )

    bad = "Birds/bad_files"
    whole = io.BytesIO()
    _photo(9).save(whole, format="JPEG")
    write(f"{bad}/truncated.jpg", whole.getvalue()[: len(whole.getvalue()) // 2], "truncated")
    write(f"{bad}/zero_bytes.jpg", b"", "empty file (0 bytes)")
    write(f"{bad}/actually_text.jpg", b"field notes: two owls at dusk\n", "not a decodable image")
    write(f"{bad}/bomb.png", _png_header_only(20000, 20000), "decompression bomb")
    save(f"{bad}/one_pixel.png", Image.new("RGB", (1, 1), (5, 5, 5)), "too small")
    write(f"{bad}/.hidden.jpg", whole.getvalue(), "hidden file")
    write(f"{bad}/.DS_Store", b"\0\0\0\1Bud1", "os metadata file")
    write(f"{bad}/Thumbs.db", b"\xd0\xcf\x11\xe0", "os metadata file")
    write(f"{bad}/._truncated.jpg", b"\0\5\26\7", "macOS resource fork")
    # fill the bad_files species with enough usable images that the folder itself is kept
    for i in range(3):
        save(f"{bad}/good_{i}.jpg", _photo(20 + i))

    (root / "Birds" / "empty_species").mkdir(parents=True)
    expected["Birds/empty_species/"] = "empty folder"
    save("Birds/lonely_species/only.jpg", _photo(30), "fewer than scan.min_images_per_species")
    os.symlink("..", root / "Birds" / "loop")
    expected["Birds/loop/"] = "symlinked folder not followed"
    save("loose_at_root.jpg", _photo(31), "not inside a species folder")
    return expected


def every_entry(root: Path) -> list[str]:
    """What the invariant counts: every file and symlink, plus folders that hold nothing."""
    entries = []
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(folder)
        for name in dirnames:
            path = base / name
            if path.is_symlink() or not any(path.iterdir()):
                entries.append(path.relative_to(root).as_posix() + "/")
        entries.extend((base / name).relative_to(root).as_posix() for name in filenames)
    return sorted(entries)


def copy_photo_folder(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)
