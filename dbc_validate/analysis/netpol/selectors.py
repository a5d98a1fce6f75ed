"""Label selectors (matchLabels + matchExpressions) as data, with Kubernetes' matching rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class SelectorError(ValueError):
    """A selector the API server would reject (unknown operator, missing values)."""


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        if self.operator == "NotIn":
            # k8s.io/apimachinery labels: NotIn also matches when the key is absent.
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels

    def describe(self) -> str:
        if self.operator in ("Exists", "DoesNotExist"):
            return f"{'!' if self.operator == 'DoesNotExist' else ''}{self.key}"
        return f"{self.key} {'in' if self.operator == 'In' else 'notin'} ({','.join(sorted(self.values))})"


@dataclass(frozen=True)
class LabelSelector:
    """Requirements AND-ed together; no requirement at all selects everything."""

    requirements: tuple[Requirement, ...] = ()

    @property
    def selects_all(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def describe(self) -> str:
        return "{}" if self.selects_all else ", ".join(r.describe() for r in self.requirements)


def parse_selector(raw: Any, where: str = "selector") -> LabelSelector:
    """A LabelSelector from its YAML form; None or {} selects everything. Raises SelectorError."""
    if raw is None:
        return LabelSelector()
    if not isinstance(raw, Mapping):
        raise SelectorError(f"{where} is not a mapping")
    requirements: list[Requirement] = []
    match_labels = raw.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        raise SelectorError(f"{where}.matchLabels is not a mapping")
    for key, value in match_labels.items():
        requirements.append(Requirement(str(key), "In", frozenset({str(value)})))
    expressions = raw.get("matchExpressions") or []
    if not isinstance(expressions, list):
        raise SelectorError(f"{where}.matchExpressions is not a list")
    for index, expression in enumerate(expressions):
        here = f"{where}.matchExpressions[{index}]"
        if not isinstance(expression, Mapping) or not expression.get("key"):
            raise SelectorError(f"{here} needs a key")
        operator = str(expression.get("operator") or "")
        values = frozenset(str(v) for v in expression.get("values") or [])
        if operator not in OPERATORS:
            raise SelectorError(f"{here}: operator {operator!r} is not one of {', '.join(OPERATORS)}")
        if operator in ("In", "NotIn") and not values:
            raise SelectorError(f"{here}: operator {operator} needs values")
        if operator in ("Exists", "DoesNotExist") and values:
            raise SelectorError(f"{here}: operator {operator} takes no values")
        requirements.append(Requirement(str(expression["key"]), operator, values))
    return LabelSelector(tuple(requirements))
