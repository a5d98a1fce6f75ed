"""Checks on a composed YAML node graph before construction: an alias-expansion budget and no duplicate keys."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

# Expanded nodes allowed per character of the document (with a floor for short documents): plain YAML has at
# most about one node per character, so a legitimate anchor/merge-key style stays far below this bound while a
# "billion laughs" alias bomb grows exponentially past it.
NODES_PER_CHAR = 10
MIN_NODE_BUDGET = 100_000

MERGE_KEY_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class NodeProblem:
    """Why a document was refused and the 1-based line it points at."""

    line: int
    problem: str
    fix: str


def node_budget(text_length: int) -> int:
    return max(MIN_NODE_BUDGET, NODES_PER_CHAR * text_length)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _duplicate_key(node: yaml.MappingNode) -> NodeProblem | None:
    seen: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == MERGE_KEY_TAG:
            continue
        line = key.start_mark.line + 1
        identity = (key.tag, key.value)
        if identity not in seen:
            seen[identity] = line
        else:
            first = seen[identity]
            return NodeProblem(
                line,
                f"duplicate mapping key {key.value!r} (first at line {first})",
                "remove one of the two keys (the Kubernetes API rejects duplicate fields)",
            )
    return None


def _expanded_sizes(root: yaml.Node) -> tuple[dict[int, int], NodeProblem | None]:
    """Expanded size of every distinct node (an alias counts its target again), iteratively; the first duplicate
    key found on the way. A node reached again while still open (a recursive alias) counts 1."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        ident = id(node)
        if children_done:
            open_nodes.discard(ident)
            sizes[ident] = 1 + sum(sizes.get(id(child), 1) for child in _children(node))
            continue
        if ident in sizes or ident in open_nodes:
            continue
        if isinstance(node, yaml.MappingNode):
            duplicate = _duplicate_key(node)
            if duplicate is not None:
                return sizes, duplicate
        open_nodes.add(ident)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes, None


def check_node(root: yaml.Node, budget: int) -> NodeProblem | None:
    """A problem that makes the document unsafe or invalid to construct, or None."""
    sizes, duplicate = _expanded_sizes(root)
    if duplicate is not None:
        return duplicate
    total = sizes.get(id(root), 1)
    if total <= budget:
        return None
    # Point at the innermost node that alone exceeds the budget: the level where the aliases cross it.
    node, seen = root, {id(root)}
    while True:
        bigger = next((c for c in _children(node) if sizes.get(id(c), 1) > budget and id(c) not in seen), None)
        if bigger is None:
            break
        node = bigger
        seen.add(id(node))
    return NodeProblem(
        node.start_mark.line + 1,
        f"aliases (*name) expand this node past {budget} nodes (a YAML alias bomb?)",
        "write the repeated content out or use fewer nested aliases",
    )
