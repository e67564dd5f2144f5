"""Pass 2: values the schema cannot fill, made explicit before any check reads them."""

from __future__ import annotations

from zsc.data.folders import groups_found
from zsc.methods.clusterers import CLUSTERER_METHODS, K_GIVEN


def nothing_to_do(config: dict) -> list[str]:
    """A config must hold a benchmark (``datasets``) or sort runs (``sort``); asked before the schema."""
    if config.get("datasets") or config.get("sort"):
        return []
    return ["config key '<top level>': nothing to run: give 'datasets' (a benchmark) or 'sort' (sort runs), or both"]


def sort_only_defaults(config: dict) -> None:
    """A config of sort runs only has no benchmark: empty datasets, samplings and seeds, so every
    later pass reads them as in any config."""
    if "datasets" not in config:
        config["datasets"] = {}
        config.setdefault("samplings", {})
        config.setdefault("seeds", [])


def default_k(config: dict) -> None:
    """A k-given clusterer without k clusters into the sample's species count."""
    for spec in config["clusterers"].values():
        if spec["method"] in K_GIVEN:
            spec.setdefault("k", CLUSTERER_METHODS[spec["method"]].params["k"].default)


def resolve_splits(config: dict) -> list[str]:
    """split_by: group needs the group names: listed as ``splits``, else read from the folders, the
    labels table or the demo spec (written into ``splits``). Returns why they could not be found."""
    errors = []
    for name, spec in config["datasets"].items():
        if not spec.get("split_by") or spec.get("splits"):
            continue
        if "demo" not in spec and not spec.get("labels") and spec["group_level"] is None:
            errors.append(f"config key 'datasets.{name}.split_by': splitting by group needs group_level")
            continue
        found = groups_found(spec)
        if found is None:
            errors.append(
                f"config key 'datasets.{name}.splits': list the groups to cluster separately "
                f"(the root is absent, so they cannot be read from its folders)"
            )
        elif not found:
            errors.append(f"config key 'datasets.{name}.split_by': no group folders found")
        else:
            spec["splits"] = found
    return errors


NAMED_REGISTRIES = ("datasets", "samplings", "models", "reducers", "clusterers", "sort")


def canonical(value):
    """Mappings with sorted keys, recursively: a job's params compare by content, not by key order."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def canonicalise(config: dict) -> dict:
    """Names keep their order (the grid's); keys inside an entry are sorted."""
    for registry in NAMED_REGISTRIES:
        if registry in config:
            config[registry] = {name: canonical(spec) for name, spec in config[registry].items()}
    return config
