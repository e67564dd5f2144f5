"""Config checks, in passes: parse (``source``) -> schema with defaults (``schema``) -> normalise
(``normalise``: explicit values the schema cannot fill) -> cross-key checks (``checks``) -> what the
photos on disk allow (``data_checks``). Every error names the offending key as a dotted path and,
where there is a closed set, the allowed values. It runs when the Snakefile is parsed, so a bad
config fails before any job starts; ``python -m zsc.config FILE`` runs it without Snakemake.
"""

from __future__ import annotations

import copy
from pathlib import Path

from zsc.config.checks import cross_key_errors
from zsc.config.data_checks import data_errors, missing_data
from zsc.config.normalise import canonicalise, default_k, nothing_to_do, resolve_splits, sort_only_defaults
from zsc.config.schema import SCHEMA_PATH, coerce_overrides, load_schema, schema_errors
from zsc.config.source import duplicate_keys, load_file

__all__ = [
    "SCHEMA_PATH",
    "ConfigError",
    "check_file",
    "coerce_overrides",
    "duplicate_keys",
    "load_schema",
    "missing_data",
    "validate_config",
]


class ConfigError(ValueError):
    """A config value that cannot work; the message names the key."""


def validate_config(config: dict, schema_path: Path | str = SCHEMA_PATH) -> dict:
    """A validated copy of ``config`` with defaults filled; raise ConfigError listing every problem."""
    config = copy.deepcopy(dict(config))
    errors = nothing_to_do(config) or schema_errors(config, load_schema(schema_path))
    if not errors:
        sort_only_defaults(config)
        default_k(config)
        errors = resolve_splits(config) + cross_key_errors(config) + data_errors(config)
    if errors:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(errors))
    return canonicalise(config)


def check_file(path: Path | str, schema_path: Path | str = SCHEMA_PATH) -> list[str]:
    """Every problem of a config file, each naming the file and line (YAML) or the key (schema)."""
    config, problems = load_file(path)
    if config is None:
        return problems
    try:
        validate_config(config, schema_path)
    except ConfigError as error:
        problems += [line.strip()[2:] for line in str(error).splitlines()[1:]]
    return problems


def main(argv: list[str] | None = None) -> int:
    """python -m zsc.config FILE...: check config files (YAML syntax with file and line, duplicate keys,
    every schema and cross-key error) without starting Snakemake."""
    import sys

    status = 0
    for name in argv if argv is not None else sys.argv[1:]:
        problems = check_file(name, SCHEMA_PATH)
        for problem in problems:
            print(problem)
        if problems:
            status = 1
        else:
            print(f"{name}: ok")
    return status
