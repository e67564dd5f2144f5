"""The architecture as a test: layers import downward only, one home for the grid and for the paths,
and a Snakefile parse stays light (no torch, no timm)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

from conftest import REPO

SRC = REPO / "src" / "zsc"
# bottom to top; a module may import its own subpackage and anything on a lower layer, nothing else
LAYERS = {
    "__init__": 0,
    "io": 0,
    "grid": 0,
    "layout": 0,
    "tables": 1,
    "data": 1,
    "embedding": 2,
    "methods": 2,
    "evaluation": 3,
    "report": 4,
    "sorting": 5,
    "config": 6,
    "steps": 7,
}


def _package(module: str) -> str:
    """zsc.data.scan -> data; zsc.io -> io; zsc -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path) -> list[str]:
    """Every zsc module a file imports, at module level or inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "zsc":
            if node.module == "zsc":  # from zsc import grid, layout, __version__
                found += [f"zsc.{alias.name}" if alias.name != "__version__" else "zsc" for alias in node.names]
            else:
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "zsc"]
    return found


def test_every_module_sits_on_a_known_layer():
    packages = {p.stem if p.parent == SRC else p.parent.relative_to(SRC).parts[0] for p in SRC.rglob("*.py")}
    assert packages == set(LAYERS), packages ^ set(LAYERS)


def test_imports_run_downward_only():
    upward = []
    for path in SRC.rglob("*.py"):
        source = "zsc." + ".".join(path.relative_to(SRC).with_suffix("").parts)
        here = _package(source)
        for target in _imports(path):
            there = _package(target)
            if there != here and LAYERS[there] >= LAYERS[here]:
                upward.append(f"{path.relative_to(REPO)} imports {target} (layer {LAYERS[there]} >= {LAYERS[here]})")
    assert not upward, "\n".join(upward)


def test_the_layer_check_catches_an_upward_import(tmp_path):
    """The check above can fail: a data module importing a step is reported."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from zsc.steps import sort\n")
    assert _imports(probe) == ["zsc.steps"] and LAYERS[_package("zsc.steps")] > LAYERS["data"]


def test_the_grid_is_multiplied_in_one_place_only():
    """Only zsc/grid.py takes the product of the grid's axes; the workflow asks it."""
    offenders = []
    for path in [*SRC.rglob("*.py"), *(REPO / "workflow").rglob("*.smk"), *(REPO / "bench").glob("*.py")]:
        if path != SRC / "grid.py" and re.search(
            r"itertools\.product\([^)]*(MODELS|REDUCERS|models|reducers)", path.read_text()
        ):
            offenders.append(str(path.relative_to(REPO)))
    assert not offenders, offenders


def test_path_patterns_are_spelled_in_layout_only():
    """No rule, input function or library module spells a results/ or resources/ path itself."""
    pattern = re.compile(r"""["'](results|resources)/""")
    offenders = []
    for path in [*SRC.rglob("*.py"), *(REPO / "workflow").rglob("*.smk"), *(REPO / "workflow").rglob("*.py")]:
        if path == SRC / "layout.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_a_snakefile_parse_imports_neither_torch_nor_timm_nor_scikit_learn():
    """What common.smk imports and runs at parse time (config checks, the memory check), in a fresh process:
    every `snakemake` start pays it (scikit-learn alone is 1.5 s here)."""
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    imports = re.findall(r"^from zsc[\w.]* import (?:\([^)]*\)|.*)$", common, re.M)
    assert imports, "common.smk imports nothing from zsc?"
    code = "\n".join(imports) + (
        "\nimport sys, yaml\nfrom zsc.config import SCHEMA_PATH, validate_config\nfrom zsc.methods.memory import memory_problems"
        f"\nconfig = validate_config(yaml.safe_load(open(r'{REPO / 'config' / 'config.yaml'}')), SCHEMA_PATH)"
        "\nmemory_problems(config, {'reduce': 8000, 'cluster': 8000})"
        "\nheavy = sorted(name for name in ('torch', 'timm', 'torchvision', 'open_clip', 'sklearn', 'scipy') if name in sys.modules)"
        "\nassert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)  # (the timm-id cache is warm after one run)


def test_the_review_page_step_imports_no_scikit_learn():
    """A week's page job is on the rerun's critical path: its modules leave scikit-learn (2 s) to the jobs that fit."""
    code = (
        "import sys\nimport zsc.steps.sort, zsc.sorting.page, zsc.sorting.similarity, zsc.report.gallery"
        "\nassert 'sklearn' not in sys.modules, 'sklearn imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


STEP_LINES = 45  # a step reads its files, calls the domain and writes: about 40 lines or less


def test_sort_steps_are_short_and_hold_no_domain_decisions():
    """Every function of the sort run's steps is short; the decisions live in zsc.sorting."""
    long = []
    for name in ("sort", "camera_trap", "exports"):
        tree = ast.parse((SRC / "steps" / f"{name}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > STEP_LINES:
                long.append(f"steps/{name}.py:{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long, long


def test_the_page_contract_holds_every_field_its_scripts_read():
    """Each ``D.<name>`` the page's scripts read is a field of PageData (the one contract with Python)."""
    from dataclasses import fields

    from zsc.sorting.page import SCRIPTS, PageData

    assets = SRC / "sorting" / "page" / "assets"
    read = set()
    for script in SCRIPTS:
        read |= set(re.findall(r"(?<![\w.$])D\.(\w+)", (assets / script).read_text()))
    declared = {f.name for f in fields(PageData)}
    assert read and read <= declared, read - declared
    assert sorted(p.name for p in assets.glob("*.js")) == sorted(SCRIPTS)  # no script left out of the page


def test_each_export_lives_in_the_exports_package_with_its_rule_made_from_the_registry():
    """An export is one module of zsc.sorting.exports (its writer there) and no hand-written rule."""
    from zsc.sorting.exports import EXPORTS

    assert {"camtrap_dp", "reviewed_detections", "frame_labels", "season_summary", "activity"} <= set(EXPORTS)
    outside = [
        name for name, export in EXPORTS.items() if not export.write.__module__.startswith("zsc.sorting.exports.")
    ]
    assert not outside, outside
    names = "|".join(EXPORTS)
    spelled = [
        path.name
        for path in (REPO / "workflow" / "rules").glob("*.smk")
        if re.search(rf"^rule sort_({names}):", path.read_text(), re.M)
    ]
    assert not spelled, f"an export's rule written by hand in {spelled}: exports.smk makes them from the registry"
