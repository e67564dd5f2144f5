"""bench/gpu_embed.py, the season's GPU stage, runs here as its own smoke test: a tiny random-weight
model on CPU through the same code (the real embed pipeline against the model alone)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO


def test_the_gpu_embed_script_runs_on_cpu_and_reports_both_rates(tmp_path):
    out = tmp_path / "gpu.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "bench/gpu_embed.py"), "--smoke", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert [row["workers"] for row in rows] == [0, 1]
    for row in rows:
        assert row["pipeline_images_per_s"] > 0 and row["model_alone_images_per_s"] > 0
        assert row["ratio"] == row["pipeline_images_per_s"] / row["model_alone_images_per_s"]
    assert "model alone" in result.stdout and "pipeline, 1 decode worker(s)" in result.stdout
