"""Pass 1 of a config check: the JSON schema (types, closed sets, defaults filled everywhere), and the
typing of ``--config key=value`` overrides by the same schema."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import jsonschema
import yaml

# the schema ships inside the package, so `python -m zsc.config` finds it in any install
SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


def load_schema(schema_path: Path | str) -> dict:
    """The config schema: the YAML file, with the reducer and clusterer entries generated from the
    method registries (each parameter declared once, with its default and constraint, beside its method)."""
    from zsc.methods import clusterers, reducers

    schema = yaml.safe_load(Path(schema_path).read_text())
    for registry, methods in (("reducers", reducers.REDUCER_METHODS), ("clusterers", clusterers.CLUSTERER_METHODS)):
        entry = schema["properties"][registry]["additionalProperties"]
        entry["properties"], conditions = method_entry_properties(methods)
        if conditions:
            entry["allOf"] = conditions
    return schema


def method_entry_properties(methods: dict) -> tuple[dict, list[dict]]:
    """JSON-schema properties of a registry entry: ``method`` (the registry's names), then every
    parameter any method declares, typed by its constraint; only the common ones carry a default
    (a method-specific default would put that parameter into every entry). A name two methods declare
    with different constraints is typed per method (``if method is m, then ...``: the second item)."""
    properties = {"method": {"type": "string", "enum": list(methods)}}
    declared: dict[str, dict[str, dict]] = {}
    for method_name, method in methods.items():
        for name, param in method.all_params().items():
            declared.setdefault(name, {})[method_name] = dict(param.constraint)
            if name not in properties:
                properties[name] = {**param.constraint, "description": param.doc}
                if name in method.common:
                    properties[name]["default"] = param.default
    conditions = []
    for name, by_method in declared.items():
        if len({repr(sorted(c.items())) for c in by_method.values()}) > 1:
            properties[name] = {"description": properties[name]["description"]}
            conditions += [
                {
                    "if": {"properties": {"method": {"const": method_name}}, "required": ["method"]},
                    "then": {"properties": {name: constraint}},
                }
                for method_name, constraint in by_method.items()
            ]
    return properties, conditions


def _fill_defaults(validator_class):
    """A validator that also writes schema defaults, inside additionalProperties maps too."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _scalar(text: str, types: set[str]):
    """A command-line string as the type the schema wants, or unchanged."""
    lowered = text.strip().lower()
    if "integer" in types and re.fullmatch(r"[+-]?\d+", text.strip()):
        return int(text)
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            pass
    if "boolean" in types and lowered in ("true", "false"):
        return lowered == "true"
    if "null" in types and lowered in ("null", "~", "none"):
        return None
    return text


def _resolve_ref(schema: dict, root: dict) -> dict:
    return root["definitions"][schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema


def _schema_types(schema: dict, root: dict) -> set[str]:
    """Every JSON type a (sub)schema accepts, through $ref and oneOf/anyOf."""
    schema = _resolve_ref(schema, root)
    types = schema.get("type", [])
    found = set([types] if isinstance(types, str) else types)
    for alternative in schema.get("oneOf", []) + schema.get("anyOf", []):
        found |= _schema_types(alternative, root)
    return found


def coerce_overrides(value, schema: dict, root: dict | None = None):
    """Snakemake's ``--config key=value`` reads nested values as strings (``seeds=[1,2]`` is
    ``['1', '2']``): convert them to the types the schema declares, so overrides work as typed."""
    root = root or schema
    schema = _resolve_ref(schema, root)
    if isinstance(value, dict):
        properties, extra = schema.get("properties", {}), schema.get("additionalProperties")
        return {
            key: coerce_overrides(item, properties.get(key, extra if isinstance(extra, dict) else {}), root)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [coerce_overrides(item, schema.get("items", {}), root) for item in value]
    if isinstance(value, str):
        return _scalar(value, _schema_types(schema, root))
    return value


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "<top level>"


def schema_errors(config: dict, schema: dict) -> list[str]:
    validator = _fill_defaults(jsonschema.Draft202012Validator)(schema)
    messages = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        detail = error.message
        if error.validator == "oneOf" and error.context:
            detail = "; ".join(sorted({sub.message for sub in error.context}))
        messages.append(f"config key '{_key_path(error)}': {detail}")
    return messages
