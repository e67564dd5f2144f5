"""zsc: zero-shot clustering of animal images with vision foundation models."""

__version__ = "0.1.0"
