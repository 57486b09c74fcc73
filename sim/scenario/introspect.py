"""Walk the pydantic `Scenario` schema into a flat list of levers.

`migsim levers` and docs/levers.md are generated from this walk, so the documentation of
every lever (type, unit, default, bounds, source) cannot drift from the schema.

Path conventions (the same as scenario files and `--set`): `a.b` is key `b` of table `[a]`;
`[]` marks the items of a list of tables; `<nationality>` marks the keys of a table keyed
by nationality (the placeholder is named after the key type's alias in the schema).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined, to_jsonable_python

from sim.scenario.schema import Scenario

TOP_LEVEL = "top level"
REQUIRED = "required"
MAX_DEFAULT_CHARS = 100
_MISSING = object()


@dataclass(frozen=True)
class Lever:
    """One documented field of the scenario schema."""

    path: str
    section: str
    type: str
    unit: str
    default: str
    bounds: str
    source: str
    doc: str


# ----------------------------------------------------------------------------- types
def _strip_optional(tp: Any) -> Any:
    """`X | None` -> `X`; other types unchanged."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _item_model(tp: Any) -> tuple[list[str], type[BaseModel]] | None:
    """If `tp` is a model, or lists/dicts that end in one: the path steps and the model.

    Steps are "[]" for a list level and "<>" for a dict level (named later).
    """
    tp = _strip_optional(tp)
    if _is_model(tp):
        return [], tp
    origin, args = get_origin(tp), get_args(tp)
    if origin is list and args:
        inner = _item_model(args[0])
        return (["[]", *inner[0]], inner[1]) if inner else None
    if origin is dict and len(args) == 2:
        inner = _item_model(args[1])
        return (["<>", *inner[0]], inner[1]) if inner else None
    return None


def type_name(tp: Any) -> str:
    """A compact, TOML-minded rendering of a field type."""
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:  # a constrained item type: its bounds are in `bounds`
        return type_name(args[0])
    if origin is Literal:
        return " | ".join(json.dumps(a) for a in args)
    if origin in (Union, types.UnionType):
        return " | ".join("none" if a is type(None) else type_name(a) for a in args)
    if origin is list:
        return f"list[{type_name(args[0])}]"
    if origin is dict:
        return f"dict[{type_name(args[0])}, {type_name(args[1])}]"
    if _is_model(tp):
        return "table"
    if tp is dt.date:
        return "date"
    return getattr(tp, "__name__", str(tp))


# ----------------------------------------------------------------------------- key labels
def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _raw_annotation(model: type[BaseModel], name: str) -> str | None:
    for cls in model.__mro__:
        raw = cls.__dict__.get("__annotations__", {}).get(name)
        if raw is not None:
            return raw if isinstance(raw, str) else None
    return None


def _dict_key_aliases(raw: str | None) -> list[str | None]:
    """Names of the dict key types along `raw` (e.g. 'dict[Nationality, dict[AdultGroup, X]]'
    -> ['Nationality', 'AdultGroup']); None where the key type is written inline."""
    if raw is None:
        return []
    try:
        node: ast.expr | None = ast.parse(raw, mode="eval").body
    except SyntaxError:
        return []
    out: list[str | None] = []
    while isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        sl = node.slice
        if node.value.id == "dict" and isinstance(sl, ast.Tuple) and len(sl.elts) == 2:
            key = sl.elts[0]
            out.append(key.id if isinstance(key, ast.Name) else None)
            node = sl.elts[1]
        elif node.value.id == "list":
            node = sl
        else:
            break
    return out


def _key_labels(model: type[BaseModel], name: str, item: type[BaseModel], n: int) -> list[str]:
    """Placeholders for the `n` dict levels of a field: the key type's alias (Nationality ->
    <nationality>); for an inline key type, the last word of the item model (ReceivingCountry
    -> <country>)."""
    aliases = _dict_key_aliases(_raw_annotation(model, name))
    words = re.findall(r"[A-Z][a-z0-9]*", item.__name__)
    fallback = _snake(words[-1]) if words else "key"
    labels = [_snake(a) if a else fallback for a in aliases[:n]]
    return labels + [fallback] * (n - len(labels))


# ----------------------------------------------------------------------------- metadata
def _item_bounds(tp: Any) -> list[str]:
    """Bounds of constrained item types inside lists and dicts (e.g. level multipliers)."""
    if get_origin(tp) is Annotated:
        args = get_args(tp)
        return [b for m in args[1:] for b in _numeric_bounds(getattr(m, "metadata", [m]))]
    if get_origin(tp) in (list, dict):
        return _item_bounds(get_args(tp)[-1])
    return []


def _numeric_bounds(metadata: Any) -> list[str]:
    out = []
    for m in metadata:
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if isinstance(m, getattr(at, attr.capitalize())):
                out.append(f"{sym} {getattr(m, attr)}")
    return out


def bounds(field: FieldInfo) -> str:
    """Bounds from the field metadata (ge/gt/le/lt, lengths, pattern), and of the values
    of a list or table whose item type is constrained."""
    out: list[str] = [f"values {b}" for b in _item_bounds(field.annotation)]
    min_len = max_len = None
    for m in field.metadata:
        out += _numeric_bounds([m])
        if isinstance(m, at.MinLen):
            min_len = m.min_length
        elif isinstance(m, at.MaxLen):
            max_len = m.max_length
        elif isinstance(m, at.MultipleOf):
            out.append(f"multiple of {m.multiple_of}")
        elif getattr(m, "pattern", None):
            out.append(f"pattern {m.pattern}")
    if min_len is not None and min_len == max_len:
        out.append(f"length = {min_len}")
    else:
        if min_len is not None:
            out.append(f"length >= {min_len}")
        if max_len is not None:
            out.append(f"length <= {max_len}")
    return ", ".join(out)


def _extra(field: FieldInfo, key: str) -> str:
    extra = field.json_schema_extra
    return str(extra.get(key, "")) if isinstance(extra, dict) else ""


def _own_default(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return _MISSING if field.default is PydanticUndefined else field.default


def render_default(value: Any) -> str:
    """Scalars in full; tables and lists as compact JSON, truncated."""
    if value is _MISSING:
        return REQUIRED
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 50.0 and 50 read the same in TOML
    if isinstance(value, int | float):
        return repr(value)
    text = json.dumps(to_jsonable_python(value, by_alias=True), ensure_ascii=False)
    if len(text) > MAX_DEFAULT_CHARS:
        text = text[: MAX_DEFAULT_CHARS - 1] + "…"
    return text


# ----------------------------------------------------------------------------- walk
# The default of a field inside a table is taken from the enclosing default (e.g. the
# `receiving` default has 50 cases/year for honduras, not the item model's 150), so the
# walk carries the default instances of the current model, keyed by where they sit.
Instances = list[tuple[str, BaseModel]]


def _items(value: Any, steps: list[str], key: str = "") -> Instances:
    """The model instances inside a default `value`, following list/dict `steps`."""
    if not steps:
        return [(key, value)] if isinstance(value, BaseModel) else []
    pairs = enumerate(value) if isinstance(value, list) else dict(value or {}).items()
    out: Instances = []
    for k, v in pairs:
        out += _items(v, steps[1:], f"{key}.{k}" if key else str(k))
    return out


def _default_text(own: Any, values: list[tuple[str, Any]]) -> str:
    """The default as it appears in the defaults of the enclosing tables; if that differs
    from the field's own default, also what a table you write gets when it omits the field."""
    if not values:
        return render_default(own)
    if all(v == values[0][1] for _, v in values):
        shown = render_default(values[0][1])
        same = values[0][1] == own
    else:
        shown = ", ".join(f"{k}: {render_default(v)}" for k, v in values)
        if len(shown) > MAX_DEFAULT_CHARS:
            shown = shown[: MAX_DEFAULT_CHARS - 1] + "…"
        same = False
    return shown if same else f"{shown}; if omitted: {render_default(own)}"


def _walk(
    model: type[BaseModel],
    prefix: str,
    section: str | None,
    parents: Instances,
    inherited: tuple[str, str],
) -> list[Lever]:
    """Levers of `model` under `prefix`; `parents` are its instances in the enclosing default."""
    out: list[Lever] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{prefix}{key}"
        own = _own_default(field)
        values = [(k, getattr(inst, name)) for k, inst in parents]
        unit = _extra(field, "unit") or inherited[0]
        source = _extra(field, "source") or inherited[1]
        nested = _item_model(field.annotation)
        sec = section or (key if nested else TOP_LEVEL)
        if not (nested and not nested[0] and field.json_schema_extra is None):  # not a section
            out.append(
                Lever(
                    path=path,
                    section=sec,
                    type=type_name(field.annotation),
                    unit=unit,
                    default=_default_text(own, values),
                    bounds=bounds(field),
                    source=source,
                    doc=field.description or "",
                )
            )
        if nested is None:
            continue
        steps, item = nested
        labels = iter(_key_labels(model, name, item, steps.count("<>")))
        sub = path + "".join("[]" if s == "[]" else f".<{next(labels)}>" for s in steps) + "."
        defaults = values or ([("", own)] if own is not _MISSING else [])
        inner = [
            (".".join(x for x in (k, k2) if x), i)
            for k, v in defaults
            for k2, i in _items(v, steps)
        ]
        # a single table documents its parent's unit and source; collection items their own
        out += _walk(item, sub, sec, inner, inherited if steps else (unit, source))
    return out


def levers(model: type[BaseModel] = Scenario) -> list[Lever]:
    """Every field of the schema, in declaration order (depth first)."""
    return _walk(model, "", None, [], ("", ""))


def section_docs(model: type[BaseModel] = Scenario) -> dict[str, str]:
    """First docstring sentence of the model behind each section (why the section exists)."""
    docs = {TOP_LEVEL: _first_line(model.__doc__)}
    for name, field in model.model_fields.items():
        nested = _item_model(field.annotation)
        if nested:
            docs[field.alias or name] = _first_line(nested[1].__doc__)
    return docs


def _first_line(doc: str | None) -> str:
    """The first sentence of a docstring."""
    text = " ".join((doc or "").split())
    return text.split(". ")[0].rstrip(".") + "." if text else ""


def by_section(items: list[Lever]) -> dict[str, list[Lever]]:
    """Levers grouped by section, top level first, then in schema order."""
    groups: dict[str, list[Lever]] = {TOP_LEVEL: []}
    for lv in items:
        groups.setdefault(lv.section, []).append(lv)
    return {k: v for k, v in groups.items() if v}
