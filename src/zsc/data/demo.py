"""Deterministic synthetic "species" for the offline demo and the tests (no download).

Each species is a body shape with a coat pattern (stripes, spots, checks, rings,
solid, ...). Every image varies pose (rotation, stretch), scale, position, coat
colour and background (random two-colour gradient plus noise), so colour alone
does not identify a species: a network must see shape and texture. A pretrained
ImageNet CNN separates them; random weights largely do not.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SPECIES = tuple(
    f"{shape}_{pattern}"
    for shape, pattern in [
        ("disc", "stripes"),
        ("triangle", "spots"),
        ("star", "solid"),
        ("square", "checks"),
        ("cross", "stripes"),
        ("crescent", "spots"),
        ("ellipse", "rings"),
        ("hexagon", "zigzag"),
        ("ring", "solid"),
        ("arrow", "checks"),
        ("disc", "spots"),
        ("triangle", "stripes"),
    ]
)


def _polygon(shape: str, size: int) -> list[tuple[float, float]]:
    c, r = size / 2, size / 2 * 0.95

    def regular(n, offset=0.0, radii=(1.0,)):
        return [
            (
                c + r * radii[i % len(radii)] * math.cos(2 * math.pi * i / n + offset),
                c + r * radii[i % len(radii)] * math.sin(2 * math.pi * i / n + offset),
            )
            for i in range(n)
        ]

    table = {
        "triangle": lambda: regular(3, -math.pi / 2),
        "star": lambda: regular(10, -math.pi / 2, radii=(1.0, 0.42)),
        "square": lambda: regular(4, math.pi / 4),
        "hexagon": lambda: regular(6),
        "cross": lambda: [
            (c + r * x, c + r * y)
            for x, y in [
                (-0.3, -1),
                (0.3, -1),
                (0.3, -0.3),
                (1, -0.3),
                (1, 0.3),
                (0.3, 0.3),
                (0.3, 1),
                (-0.3, 1),
                (-0.3, 0.3),
                (-1, 0.3),
                (-1, -0.3),
                (-0.3, -0.3),
            ]
        ],
        "arrow": lambda: [
            (c + r * x, c + r * y)
            for x, y in [(-1, -0.3), (0.2, -0.3), (0.2, -0.8), (1, 0), (0.2, 0.8), (0.2, 0.3), (-1, 0.3)]
        ],
    }
    return table[shape]()


def _body_mask(shape: str, size: int) -> Image.Image:
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    box = (size * 0.03, size * 0.03, size * 0.97, size * 0.97)
    if shape == "disc":
        draw.ellipse(box, fill=255)
    elif shape == "ellipse":
        draw.ellipse((size * 0.03, size * 0.25, size * 0.97, size * 0.75), fill=255)
    elif shape == "ring":
        draw.ellipse(box, fill=255)
        draw.ellipse((size * 0.3, size * 0.3, size * 0.7, size * 0.7), fill=0)
    elif shape == "crescent":
        draw.ellipse(box, fill=255)
        draw.ellipse((size * 0.3, size * 0.0, size * 1.2, size * 0.9), fill=0)
    else:
        draw.polygon(_polygon(shape, size), fill=255)
    return mask


def _coat(pattern: str, size: int, colours: np.ndarray, rng: np.random.Generator) -> Image.Image:
    yy, xx = np.mgrid[0:size, 0:size] / size
    period = rng.uniform(0.12, 0.2)
    angle = rng.uniform(0, math.pi)
    u = xx * math.cos(angle) + yy * math.sin(angle)
    v = -xx * math.sin(angle) + yy * math.cos(angle)
    if pattern == "stripes":
        second = np.sin(2 * math.pi * u / period) > 0
    elif pattern == "spots":
        second = (np.sin(2 * math.pi * u / period) * np.sin(2 * math.pi * v / period)) > 0.55
    elif pattern == "checks":
        second = (np.floor(u / period) + np.floor(v / period)) % 2 == 1
    elif pattern == "rings":
        second = np.sin(2 * math.pi * np.hypot(xx - 0.5, yy - 0.5) / period * 1.5) > 0
    elif pattern == "zigzag":
        second = np.sin(2 * math.pi * (u + 0.08 * np.abs(((v / 0.08) % 2) - 1)) / period) > 0
    else:  # solid
        second = np.zeros_like(u, dtype=bool)
    pixels = np.where(second[..., None], colours[1], colours[0])
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


def _background(size: int, rng: np.random.Generator) -> Image.Image:
    top, bottom = rng.integers(0, 256, size=(2, 3))
    t = np.linspace(0, 1, size)[:, None, None]
    gradient = top * (1 - t) + bottom * t
    noise = rng.normal(0, 18, size=(size, size, 3))
    pixels = np.clip(np.broadcast_to(gradient, (size, size, 3)) + noise, 0, 255)
    return Image.fromarray(pixels.astype(np.uint8), "RGB").filter(ImageFilter.GaussianBlur(1))


def render(species: str, rng: np.random.Generator, size: int = 160) -> Image.Image:
    """One photo of ``species`` with random pose, scale, colours and background."""
    shape, pattern = species.split("_")
    body = int(size * rng.uniform(0.45, 0.8))
    colours = rng.integers(0, 256, size=(2, 3))
    if np.abs(colours[0] - colours[1]).sum() < 200:  # keep the pattern visible
        colours[1] = 255 - colours[0]
    coat = _coat(pattern, body, colours, rng)
    mask = _body_mask(shape, body)
    stretch = rng.uniform(0.8, 1.2)
    new_size = (max(8, int(body * stretch)), max(8, int(body / stretch)))
    angle = rng.uniform(0, 360)
    coat = coat.resize(new_size).rotate(angle, expand=True, resample=Image.BILINEAR)
    mask = mask.resize(new_size).rotate(angle, expand=True, resample=Image.BILINEAR)
    image = _background(size, rng)
    x = int(rng.uniform(0, max(1, size - coat.size[0])))
    y = int(rng.uniform(0, max(1, size - coat.size[1])))
    image.paste(coat, (x, y), mask)
    return image


ROUND_SHAPES = ("disc", "ellipse", "ring", "crescent")


def species_group(species: str) -> str:
    """The demo's stand-in for a taxon (Aves / Mammalia): round or angular body shapes."""
    return "round" if species.split("_")[0] in ROUND_SHAPES else "angular"


def demo_groups(n_species: int) -> list[str]:
    """The groups a nested demo folder of ``n_species`` species holds."""
    return sorted({species_group(species) for species in SPECIES[:n_species]})


# Lookalikes: four body shapes, each in five coats; species of one shape differ only in their pattern
# (closer to real biodiversity than SPECIES, whose shapes all differ).
LOOKALIKES = tuple(
    f"{shape}_{pattern}"
    for shape in ("disc", "triangle", "square", "hexagon")
    for pattern in ("stripes", "zigzag", "checks", "spots", "rings")
)


def generate(
    root: Path | str,
    n_species: int = 10,
    per_species: int = 40,
    seed: int = 0,
    size: int = 160,
    nested: bool = False,
    species_set: tuple[str, ...] = SPECIES,
) -> list[Path]:
    """Write ``n_species`` folders of JPEGs under ``root`` (the first of ``species_set``: ``SPECIES``, or
    ``LOOKALIKES``); same arguments, same bytes."""
    if not 2 <= n_species <= len(species_set):
        raise ValueError(f"n_species must be between 2 and {len(species_set)}, got {n_species}")
    root = Path(root)
    written = []
    for index, species in enumerate(species_set[:n_species]):
        group = species_group(species)
        folder = root / group / species if nested else root / species
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([seed, index])
        for image_index in range(per_species):
            path = folder / f"{species}_{image_index:03d}.jpg"
            render(species, rng, size).save(path, quality=90)
            written.append(path)
    return written
