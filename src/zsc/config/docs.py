"""The config README's reducer and clusterer parameter tables, generated from the method registries
(``python -m zsc.config.docs`` rewrites them in ``config/README.md``; a test checks they are current)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

MARKER = re.compile(r"(<!-- generated: (\w+) parameters -->\n)(.*?)(<!-- end generated -->)", re.S)


def _allowed(constraint: dict) -> str:
    """A constraint as a reader reads it."""
    if "enum" in constraint:
        return ", ".join(f"`{value}`" for value in constraint["enum"])
    reference = constraint.get("$ref", "").rsplit("/", 1)[-1]
    if reference:
        return {"positive_int": "integer ≥ 1", "k": "`true_k`, integer ≥ 1, or `<factor>x`"}.get(reference, reference)
    bounds = [
        f"{sign} {constraint[key]}"
        for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"))
        if key in constraint
    ]
    return " ".join([constraint.get("type", "")] + [", ".join(bounds)]).strip()


def _default(value, doc: str) -> str:
    """None is either "off" (its doc says what null means) or a value resolved from the data per cell."""
    if value is None:
        return "`null`" if doc.startswith("null") else "from the data"
    return f"`{json.dumps(value)}`"


def parameter_table(methods: dict) -> str:
    """One row per (parameter, declaration): the methods declaring it so, its default, what it allows, its meaning."""
    rows: dict[tuple, list[str]] = {}
    for method_name, method in methods.items():
        for name, param in method.all_params().items():
            key = (name, repr(param.default), json.dumps(dict(param.constraint), sort_keys=True), param.doc)
            rows.setdefault(key, []).append(method_name)
    lines = ["| parameter | methods | default | allowed | meaning |", "|---|---|---|---|---|"]
    every = set(methods)
    for (name, _, constraint, doc), names in rows.items():
        which = "all" if set(names) == every else ", ".join(f"`{n}`" for n in names)
        default = _default(methods[names[0]].all_params()[name].default, doc)
        lines.append(f"| `{name}` | {which} | {default} | {_allowed(json.loads(constraint))} | {doc} |")
    return "\n".join(lines) + "\n"


def generated_readme(text: str) -> str:
    """``text`` with every generated table replaced by the registries' current one."""
    from zsc.methods.clusterers import CLUSTERER_METHODS
    from zsc.methods.reducers import REDUCER_METHODS

    registries = {"reducer": REDUCER_METHODS, "clusterer": CLUSTERER_METHODS}
    return MARKER.sub(lambda m: m.group(1) + parameter_table(registries[m.group(2)]) + m.group(4), text)


def main(path: str = "config/README.md") -> None:
    readme = Path(path)
    readme.write_text(generated_readme(readme.read_text()))
    print(f"wrote the parameter tables of {readme}", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:])
