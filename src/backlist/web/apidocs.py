"""The /docs page's reading of the app's OpenAPI schema: each operation with its parameters and
body fields, each with a type a person can read ("list of post | episode …", "integer 1–100")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Field:
    name: str
    where: str  # query, path, body
    type: str
    required: bool
    default: str
    about: str


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    fields: list[Field]
    body: str  # the body model's name, if any
    returns: str  # what a 2xx answer holds


def type_of(schema: dict[str, Any], schemas: dict[str, Any]) -> str:
    """A JSON schema as words: enums listed, ranges and lengths shown, null as "optional"."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return name
    if "anyOf" in schema:
        kinds = [type_of(s, schemas) for s in schema["anyOf"] if s.get("type") != "null"]
        return " or ".join(kinds) or "null"
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return str(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}), schemas)}"
    limits = []
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None or high is not None:
        limits.append(f"{_num(low)}–{_num(high)}")
    if "maxLength" in schema:
        limits.append(f"up to {schema['maxLength']:,} characters")
    if "pattern" in schema:
        limits.append(f"like {schema['pattern'].strip('^$')}")
    return kind + (f" ({', '.join(limits)})" if limits else "")


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _default(schema: dict[str, Any]) -> str:
    if "default" not in schema:
        return ""
    value = schema["default"]
    return "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def operations(schema: dict[str, Any]) -> list[Operation]:
    schemas = schema.get("components", {}).get("schemas", {})
    out = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            fields = [Field(p["name"], p.get("in", ""), type_of(p.get("schema", {}), schemas),
                            bool(p.get("required")), _default(p.get("schema", {})),
                            p.get("description") or p.get("schema", {}).get("description", ""))
                      for p in op.get("parameters", [])]
            ref = (op.get("requestBody", {}).get("content", {}).get("application/json", {})
                   .get("schema", {}).get("$ref", ""))
            body = ref.rsplit("/", 1)[-1]
            model = schemas.get(body, {})
            for name, prop in model.get("properties", {}).items():
                fields.append(Field(name, "body", type_of(prop, schemas),
                                    name in model.get("required", []), _default(prop),
                                    prop.get("description", "")))
            out.append(Operation(method.upper(), path, op.get("summary", ""), fields, body,
                                 _returns(op, schemas)))
    return out


def _returns(op: dict[str, Any], schemas: dict[str, Any]) -> str:
    for status, answer in op.get("responses", {}).items():
        if status.startswith("2"):
            content = answer.get("content", {}).get("application/json", {})
            shape = content.get("schema")
            if not shape:
                return ""
            kind = type_of(shape, schemas)
            return "JSON object" if kind == "object" else f"JSON: {kind}"
    return ""
