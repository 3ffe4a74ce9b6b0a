"""Where each part of a YAML document stands, so every error can say file:line:col.

ruamel.yaml's round-trip loader keeps ``lc`` on mappings and sequences (0-based). We flatten
those into a map from a path (``("layers", "fit", "rules", 2, "when")``) to the 1-based position
of the value, falling back to the key, then to the nearest parent that has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class SourcePositions:
    """Positions of values in one YAML file, keyed by path."""

    file: str | None
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    block_scalars: frozenset[PathKey] = frozenset()
    line_lengths: tuple[int, ...] = ()
    """Characters on each line of the file, when the text is known."""

    def locate(self, path: Sequence[str | int], *, prefer_key: bool = False) -> tuple[int, int] | None:
        """Position of the value at ``path`` (or of its key), else of its nearest located parent."""
        probe: PathKey = tuple(path)
        while True:
            first, second = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            if probe in first:
                return first[probe]
            if probe in second:
                return second[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def locate_in_scalar(self, path: Sequence[str | int], offset: int) -> tuple[int, int] | None:
        """Position of character ``offset`` inside the string scalar at ``path``.

        Quoted flow scalars start one column after the quote. A scalar that goes on over several
        lines (a block scalar, or a flow scalar folded by YAML, whose text no longer has the
        line breaks) reports where it starts.
        """
        base = self.values.get(tuple(path))
        if base is None:
            return self.locate(path)
        line, col = base
        if tuple(path) in self.block_scalars:
            return base
        if 0 < line <= len(self.line_lengths) and col + offset > self.line_lengths[line - 1]:
            return base  # past the end of the scalar's first line: it continues on the next ones
        return line, col + offset


def collect_positions(document: Any, file: str | None, text: str | None = None) -> SourcePositions:
    """Walk a ruamel round-trip document and record 1-based positions of keys and values."""
    values: dict[PathKey, tuple[int, int]] = {(): (1, 1)}
    keys: dict[PathKey, tuple[int, int]] = {}
    blocks: set[PathKey] = set()

    def visit(node: Any, path: PathKey) -> None:
        lc = getattr(node, "lc", None)
        if isinstance(node, dict):
            for key, child in node.items():
                child_path = (*path, str(key))
                if lc is not None:
                    try:
                        k_line, k_col = lc.key(key)
                        keys[child_path] = (k_line + 1, k_col + 1)
                        v_line, v_col = lc.value(key)
                        values[child_path] = (v_line + 1, v_col + 1 + _quote_width(child))
                    except (KeyError, TypeError):
                        pass
                _note_block(child, child_path)
                visit(child, child_path)
        elif isinstance(node, list):
            for index, child in enumerate(node):
                child_path = (*path, index)
                if lc is not None:
                    try:
                        line, col = lc.item(index)
                        values[child_path] = (line + 1, col + 1 + _quote_width(child))
                    except (KeyError, TypeError, IndexError):
                        pass
                _note_block(child, child_path)
                visit(child, child_path)

    def _note_block(child: Any, child_path: PathKey) -> None:
        if type(child).__name__ in {"LiteralScalarString", "FoldedScalarString"}:
            blocks.add(child_path)

    visit(document, ())
    lengths = tuple(len(line.rstrip("\r")) for line in text.split("\n")) if text is not None else ()
    return SourcePositions(file=file, values=values, keys=keys, block_scalars=frozenset(blocks),
                           line_lengths=lengths)


def _quote_width(node: Any) -> int:
    """Quoted scalars: the text starts one column after the opening quote."""
    return 1 if type(node).__name__ in {"DoubleQuotedScalarString", "SingleQuotedScalarString"} else 0
