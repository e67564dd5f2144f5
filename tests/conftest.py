"""Shared fixtures: real Snakemake runs in temporary working directories."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
OXFORD_PETS = Path(
    os.environ.get("ZSC_OXFORD_PETS", "/nonexistent/set-ZSC_OXFORD_PETS")
).resolve()  # optional real photos


# Debian's Chromium for the browser tests (Playwright's own browser download cannot work offline)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # this machine's closed network refuses Chromium's own connections
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",  # the pages are files with thumbnails beside them
]
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian chromium not installed (apt-get install chromium; .ci/run installs it)"
)


def launch_chromium(playwright):
    """The one way the tests start a browser: headless Debian Chromium with the flags above."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture()
def browser():
    """A headless Chromium for one test (closed after it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = launch_chromium(playwright)
        yield instance
        instance.close()


def open_page(browser, path: Path, errors: list | None = None, viewport: tuple[int, int] = (1400, 900)):
    """A page of ``browser`` at ``path``, once the review page says it is ready (``body[data-ready]``)."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True)
    page = context.new_page()
    if errors is not None:
        page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(Path(path).as_uri())
    page.wait_for_selector("body[data-ready]")
    return page


def write_config(directory: Path, config: dict, name: str = "config.yaml") -> Path:
    path = Path(directory) / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_snakemake(
    workdir: Path, config_path: Path, *extra: str, timeout: int = 900, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the real workflow (this repo's Snakefile) in ``workdir``; kill it if it hangs."""
    command = [
        "timeout",
        "-k",
        "10",
        str(timeout),
        str(SNAKEMAKE),
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(workdir),
        "--configfile",
        str(config_path),
        "--cores",
        "2",
        *extra,
    ]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
        )
    return result


def page_data(run_dir: Path) -> dict:
    """The data a sort run's review.html carries inline."""
    text = (run_dir / "review.html").read_text()
    start = text.index("id=zsc-data>") + len("id=zsc-data>")
    return json.loads(text[start : text.index("</script>", start)])


def job_counts(dry_run_output: str) -> dict[str, int]:
    """Parse Snakemake's 'Job stats' table into {rule: count}."""
    counts = {}
    table = dry_run_output.split("Job stats:", 1)[1]
    for line in table.splitlines()[3:]:
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not match:
            break
        if match.group(1) != "total":
            counts[match.group(1)] = int(match.group(2))
    return counts


class _CurrentStderr(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a record comes (pytest's capture, or the terminal)."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(self.format(record) + "\n")


@pytest.fixture(autouse=True)
def zsc_log_on_stderr():
    """Steps called directly (not as a job, so without ``logged``): their log and console lines on stderr."""
    logger = logging.getLogger("zsc")
    handler = _CurrentStderr()
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    yield
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture(scope="session")
def numba_cache(tmp_path_factory) -> Path:
    """One numba cache for every workflow run of the session (UMAP compiles once)."""
    path = tmp_path_factory.mktemp("numba_cache")
    os.environ["NUMBA_CACHE_DIR"] = str(path)
    return path


# the packaged pretrained efficientnet_lite0 at a small input: real weights for the sort-path tests
PACKAGED_EFFNET = {
    "backend": "timm",
    "id": "tf_efficientnet_lite0",
    "weights": "package:efficientnet_lite0",
    "img_size": 96,
    "batch_size": 16,
}


def tiny_config(**overrides) -> dict:
    """A fast plumbing grid: 4 demo species, random weights, every reducer and clusterer."""
    config = {
        "datasets": {
            "tiny": {
                "demo": {"n_species": 4, "per_species": 14, "seed": 3, "size": 64, "nested": True},
                "label_level": -1,
                "group_level": 0,
            }
        },
        "samplings": {"even10": {"kind": "even", "per_class": 10, "min_per_class": 5}},
        "seeds": [1],
        "models": {
            "rand_mnv2": {
                "backend": "timm",
                "id": "mobilenetv2_100",
                "weights": "random",
                "img_size": 64,
                "batch_size": 16,
            }
        },
        "reducers": {
            "tsne": {"method": "tsne"},
            "umap": {"method": "umap"},
            "pca": {"method": "pca"},
            "isomap": {"method": "isomap"},
            "kernel_pca": {"method": "kernel_pca"},
        },
        "clusterers": {
            "hdbscan": {"method": "hdbscan", "min_cluster_size": 5, "min_samples": 3},
            "dbscan": {"method": "dbscan", "min_samples": 3},
            "ward": {"method": "ward", "k": "true_k"},
            "gmm": {"method": "gmm"},
        },
        "embed": {"workers": 1},
    }
    config.update(overrides)
    return config
