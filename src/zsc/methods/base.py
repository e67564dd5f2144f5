"""What every reducer and clusterer declares, once: its fitting function, its parameters with their
defaults (scikit-learn style: an explicit default beside each name), its kind and its memory."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Param:
    """One parameter of a method, declared once (scikit-learn's ``_parameter_constraints`` beside the
    default): its default (None: resolved per cell from the data, see ``doc``), its meaning and the
    values it allows (a JSON-schema fragment: the config schema's entries are generated from it)."""

    default: Any
    doc: str
    constraint: Mapping[str, Any] = field(default_factory=dict)


POSITIVE_INT = {"$ref": "#/definitions/positive_int"}


def choice(*values: str) -> dict:
    """A parameter that takes one of ``values``."""
    return {"type": "string", "enum": list(values)}


def number(minimum: float | None = None, above: float | None = None, maximum: float | None = None) -> dict:
    """A number at least ``minimum``, or above ``above``, and at most ``maximum``."""
    bounds = {"minimum": minimum, "exclusiveMinimum": above, "maximum": maximum}
    return {"type": "number", **{key: value for key, value in bounds.items() if value is not None}}


def integer(minimum: int) -> dict:
    return {"type": "integer", "minimum": minimum}


@dataclass(frozen=True)
class Method:
    """A registry entry (``REDUCER_METHODS[name]``, ``CLUSTERER_METHODS[name]``).

    ``fit`` runs it; ``params`` are the parameters it takes beyond the ``common`` ones every method
    of its family takes; ``memory(n, ..., resolved params)`` estimates a job's peak MB; ``kind`` is
    ``reducer``, ``density`` (finds k, -1 = noise) or ``k_given``.
    """

    fit: Callable
    params: Mapping[str, Param] = field(default_factory=dict)
    memory: Callable | None = None
    kind: str = "reducer"
    common: Mapping[str, Param] = field(default_factory=dict)

    def all_params(self) -> dict[str, Param]:
        """The common parameters, then the method's own."""
        return {**self.common, **self.params}

    def declared(self) -> list[str]:
        """Every parameter name a config entry of this method may set."""
        return [*self.common, *self.params]

    def resolved_params(self, spec: Mapping) -> dict:
        """The family's common values, then the declared defaults, overlaid with the entry's own values
        (its ``method`` key excluded): the values a run uses before data-dependent ones are resolved."""
        return {
            **{name: param.default for name, param in self.common.items()},
            **{name: param.default for name, param in self.params.items()},
            **{key: value for key, value in spec.items() if key != "method"},
        }
