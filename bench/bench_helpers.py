"""Shared by bench.py and the fresh processes it starts."""

import time


def model_alone(model, batch, seconds: float = 8.0) -> float:
    """Images per second of ``model`` on one pre-loaded batch, repeated."""
    import torch

    with torch.inference_mode():
        model(batch)
        started, done = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            model(batch)
            done += len(batch)
    return done / (time.perf_counter() - started)
