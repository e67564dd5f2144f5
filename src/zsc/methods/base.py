"""What every reducer and clusterer declares, once: its fitting function, its parameters with their
defaults (scikit-learn style: an explicit default beside each name), its kind and its memory."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Param:
    """One parameter of a method: its default (None: resolved per cell from the data, see ``doc``) and meaning."""

    default: Any
    doc: str


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
