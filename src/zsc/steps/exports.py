"""Steps of workflow/rules/exports.smk: one output format of an applied review (zsc.sorting.exports)."""

from __future__ import annotations


def write_export(name: str, inputs: dict[str, str], output: str, context: dict) -> None:
    """Write export ``name`` from its inputs (run tables by name) into ``output``."""
    from zsc.sorting.exports import EXPORTS

    EXPORTS[name].write(inputs, output, context)
