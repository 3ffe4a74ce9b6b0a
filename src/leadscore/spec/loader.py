"""Load a model file: YAML with positions -> validated ``ScoringModel`` -> ``LoadedModel``.

Every problem is collected and raised once as ``ModelError`` whose issues carry file:line:col and
a hint, so a user fixes a model in one pass instead of one error per run.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import SingleQuotedScalarString

from leadscore.errors import Issue, ModelError
from leadscore.spec.model import ScoringModel
from leadscore.spec.positions import SourcePositions, collect_positions


@dataclass(frozen=True)
class LoadedModel:
    """A validated model with where it came from, its positions and its segment sub-models."""

    spec: ScoringModel
    source: str | None
    positions: SourcePositions
    segments: Mapping[str, LoadedModel] = field(default_factory=dict)
    base_dir: Path | None = None

    def predictive_sources(self) -> list[tuple[str, Path]]:
        """(layer name, artefact folder) of every layer fed by a predictive model, in layer order."""
        base = self.base_dir or Path.cwd()
        return [(name, base / layer.predictive.artifact) for name, layer in self.spec.layers.items()
                if layer.predictive is not None]

    @property
    def version_hash(self) -> str:
        """Content hash of the model and its segments: tags history rows, detects changes."""
        spec = self.spec.model_dump(mode="json")
        for layer in spec.get("layers", {}).values():
            if layer.get("predictive", "") is None:
                del layer["predictive"]  # added later: models without one keep their earlier hash
        payload: dict[str, Any] = {
            "spec": spec,
            "segments": {name: sub.version_hash for name, sub in sorted(self.segments.items())},
        }
        # A re-trained predictive artefact changes scores as much as an edit of the file does.
        artefacts = {}
        for layer, folder in self.predictive_sources():
            digest = hashlib.sha256()
            try:
                for file in sorted(p for p in folder.iterdir() if p.is_file()):
                    digest.update(file.name.encode() + b"\0" + file.read_bytes())
                artefacts[layer] = digest.hexdigest()
            except OSError:
                artefacts[layer] = "missing"
        if artefacts:
            payload["artefacts"] = artefacts
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def issue(self, path: tuple[str | int, ...], message: str, *, hint: str | None = None,
              offset: int | None = None, prefer_key: bool = False) -> Issue:
        """An Issue positioned at ``path`` (and ``offset`` characters into its scalar, if given;
        at the key rather than the value when ``prefer_key``)."""
        pos = (
            self.positions.locate_in_scalar(path, offset)
            if offset is not None
            else self.positions.locate(path, prefer_key=prefer_key)
        )
        line, col = pos if pos else (None, None)
        return Issue(message=message, path=format_path(path), file=self.source, line=line, col=col,
                     hint=hint)


def format_path(path: tuple[str | int, ...] | list[str | int]) -> str:
    """``("layers", "fit", "rules", 2, "when")`` -> ``layers.fit.rules[2].when``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    return yaml


def parse_yaml(text: str, source: str | None) -> tuple[Any, SourcePositions]:
    """Parse YAML text; a syntax error becomes a ModelError pointing at its mark."""
    try:
        document = _yaml().load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = exc.problem or exc.context or "invalid YAML"
        raise ModelError(
            "the model file is not valid YAML",
            [Issue(f"YAML syntax: {problem}", file=source, line=line, col=col,
                   hint="check indentation, colons and quotes around conditions")],
        ) from None
    except YAMLError as exc:  # unmarked, e.g. ReaderError: a control character YAML does not allow
        raise ModelError("the model file is not valid YAML",
                         [Issue(f"YAML: {str(exc).splitlines()[0]}", file=source,
                                hint="a model file is plain text: remove control characters")]) from None
    if not isinstance(document, dict):
        raise ModelError("the model file must be a mapping",
                         [Issue("expected keys such as model, layers, stages at the top level",
                                file=source, line=1, col=1)])
    return document, collect_positions(document, source, text)


def _plain(node: Any) -> Any:
    """ruamel's commented containers and scalar strings -> plain Python values."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def _validation_issues(exc: ValidationError, positions: SourcePositions, source: str | None) -> list[Issue]:
    issues: list[Issue] = []
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if not _is_union_tag(part))
        message = error["msg"].removeprefix("Value error, ")
        hint = None
        prefer_key = False
        if error["type"] == "extra_forbidden":
            prefer_key = True
            message = f"unknown key '{loc[-1]}'"
            hint = _suggest_key(loc, exc)
        elif error["type"] == "missing":
            message = f"missing required key '{loc[-1]}'"
            loc = loc[:-1] if loc else loc
        pos = positions.locate(loc, prefer_key=prefer_key)
        line, col = pos if pos else (None, None)
        issues.append(Issue(message=message, path=format_path(list(loc)), file=source, line=line,
                            col=col, hint=hint))
    # A union error is reported once per alternative; keep the first at each place.
    unique: dict[tuple[str, str], Issue] = {}
    for issue in issues:
        unique.setdefault((issue.path, issue.message), issue)
    return _drop_union_noise(list(unique.values()))


def _is_union_tag(part: object) -> bool:
    return isinstance(part, str) and (
        part in {"float", "str", "int", "list[str]", "dict[str,float]", "EventRule"}
        or part.startswith("function-")
    )


def _drop_union_noise(issues: list[Issue]) -> list[Issue]:
    """Several messages at one path usually mean 'none of the accepted types': keep the clearest."""
    by_path: dict[str, list[Issue]] = {}
    for issue in issues:
        by_path.setdefault(issue.path, []).append(issue)
    kept: list[Issue] = []
    for group in by_path.values():
        kept.append(group[0] if len(group) == 1 else _merge_type_errors(group))
    return kept


def _merge_type_errors(group: list[Issue]) -> Issue:
    first = group[0]
    messages = "; or ".join(dict.fromkeys(issue.message for issue in group))
    return Issue(message=f"not an accepted value: {messages}", path=first.path, file=first.file,
                 line=first.line, col=first.col, hint=first.hint)


_KNOWN_KEYS = {
    name: sorted(cls.model_fields)
    for name, cls in __import__("leadscore.spec.model", fromlist=["x"]).__dict__.items()
    if isinstance(cls, type) and hasattr(cls, "model_fields") and name[0].isupper()
}


def _suggest_key(loc: tuple[Any, ...], exc: ValidationError) -> str | None:
    bad = str(loc[-1])
    known = sorted({key for keys in _KNOWN_KEYS.values() for key in keys})
    close = difflib.get_close_matches(bad, known, n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else "remove it or check the spelling"


def load_model(path: str | Path) -> LoadedModel:
    """Load and validate a model file (and its segment files), raising ModelError with all issues."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(f"model file {str(file)!r} does not exist",
                         [Issue("file not found", file=str(file),
                                hint="give the path of a .yaml model; 'leadscore init' writes one")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read model file {str(file)!r}: {exc}") from None
    return load_model_text(text, source=str(file), base_dir=file.parent)


def load_model_text(text: str, *, source: str | None = None, base_dir: Path | None = None,
                    _seen: frozenset[str] = frozenset()) -> LoadedModel:
    """Load a model from YAML text; segment files are resolved against ``base_dir``."""
    document, positions = parse_yaml(text, source)
    try:
        spec = ScoringModel.model_validate(_plain(document))
    except ValidationError as exc:
        raise ModelError(f"{source or 'model'} has errors",
                         _validation_issues(exc, positions, source)) from None
    segments: dict[str, LoadedModel] = {}
    issues: list[Issue] = []
    for name, segment in spec.segments.items():
        seg_path = (base_dir or Path.cwd()) / segment.model
        key = str(seg_path.resolve())
        if key in _seen or (source and key == str(Path(source).resolve())):
            pos = positions.locate(("segments", name, "model"))
            issues.append(Issue(f"segment '{name}' refers back to a model already being loaded",
                                path=f"segments.{name}.model", file=source,
                                line=pos[0] if pos else None, col=pos[1] if pos else None,
                                hint="a segment model must not itself list the parent as a segment"))
            continue
        try:
            sub_text = seg_path.read_text(encoding="utf-8")
        except OSError:
            pos = positions.locate(("segments", name, "model"))
            issues.append(Issue(f"segment model file '{segment.model}' not found",
                                path=f"segments.{name}.model", file=source,
                                line=pos[0] if pos else None, col=pos[1] if pos else None,
                                hint=f"paths are relative to the model file; looked at {seg_path}"))
            continue
        try:
            segments[name] = load_model_text(sub_text, source=str(seg_path), base_dir=seg_path.parent,
                                             _seen=_seen | {key} | ({str(Path(source).resolve())}
                                                                    if source else set()))
        except ModelError as exc:
            issues.extend(exc.issues)
    for layer_name, layer in spec.layers.items():
        if layer.predictive is not None:
            folder = (base_dir or Path.cwd()) / layer.predictive.artifact
            if not (folder / "manifest.json").is_file():
                pos = positions.locate(("layers", layer_name, "predictive", "artifact"))
                issues.append(Issue(f"predictive artefact '{layer.predictive.artifact}' not found",
                                    path=f"layers.{layer_name}.predictive.artifact", file=source,
                                    line=pos[0] if pos else None, col=pos[1] if pos else None,
                                    hint=f"give the folder written by 'leadscore predict fit' (looked for "
                                         f"{folder / 'manifest.json'}); paths are relative to the model file"))
    if issues:
        raise ModelError(f"{source or 'model'} has errors", issues)
    return LoadedModel(spec=spec, source=source, positions=positions, segments=segments, base_dir=base_dir)


def model_from_dict(document: Mapping[str, Any], *, source: str | None = None) -> LoadedModel:
    """Build a LoadedModel from a plain dict (tests, tuning); positions are unknown."""
    try:
        spec = ScoringModel.model_validate(dict(document))
    except ValidationError as exc:
        empty = SourcePositions(file=source)
        raise ModelError(f"{source or 'model'} has errors", _validation_issues(exc, empty, source)) from None
    return LoadedModel(spec=spec, source=source, positions=SourcePositions(file=source))


def dump_model_yaml(document: Mapping[str, Any]) -> str:
    """Write a model dict as YAML text (used by tune/thresholds to write a model copy)."""
    buffer = io.StringIO()
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 110
    yaml.dump(_quote_yaml11_words(_plain(dict(document))), buffer)
    return buffer.getvalue()


# Plain scalars that YAML 1.1 readers (PyYAML, many editors) turn into booleans or null; ruamel
# writes YAML 1.2 and leaves them bare, so a tuned value map's ``Yes:`` key would become ``True``.
_YAML11_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ""})


def _quote_yaml11_words(node: Any) -> Any:
    """Quote every string (key or value) that a YAML 1.1 reader would not read back as a string."""
    if isinstance(node, dict):
        return {_quote_yaml11_words(k): _quote_yaml11_words(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_quote_yaml11_words(v) for v in node]
    if isinstance(node, str) and node.strip().lower() in _YAML11_WORDS:
        return SingleQuotedScalarString(node)
    return node
