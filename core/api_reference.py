"""The readable API reference (``/api/docs``): the OpenAPI document turned into
sections of operations and tables of fields, rendered on the server (no scripts,
nothing loaded from elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldRow:
    name: str
    type: str
    required: bool
    notes: str
    depth: int = 0


@dataclass
class OperationView:
    method: str
    path: str
    summary: str
    description: str
    anchor: str
    public: bool
    parameters: list[FieldRow] = field(default_factory=list)
    body: list[FieldRow] = field(default_factory=list)
    responses: list[tuple[str, str, str]] = field(default_factory=list)   # (status, description, schema name)


def _resolve(schema: dict, schemas: dict) -> dict:
    ref = schema.get("$ref")
    return schemas.get(ref.rsplit("/", 1)[1], {}) if ref else schema


def _type(schema: dict, schemas: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "anyOf" in schema:
        return " or ".join(_type(s, schemas) for s in schema["anyOf"])
    if "enum" in schema:
        return "one of: " + ", ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}), schemas)}"
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return str(kind)


def _notes(schema: dict) -> str:
    notes = []
    for key, text in (("minimum", "≥ {}"), ("maximum", "≤ {}"), ("minLength", "at least {} characters"),
                      ("maxLength", "at most {} characters"), ("minItems", "at least {} items"),
                      ("maxItems", "at most {} items"), ("default", "default {}")):
        value = schema.get(key)
        if key not in schema or (key == "default" and value is None) or (key.startswith("min") and value == 0):
            continue
        notes.append(text.format(f'"{value}"' if isinstance(value, str) else value))
    for option in schema.get("anyOf", []):
        notes += [n for n in [_notes(option)] if n]
    if schema.get("description"):
        notes.insert(0, schema["description"])
    return "; ".join(notes)


def _fields(schema: dict, schemas: dict, depth: int = 0, seen: tuple = ()) -> list[FieldRow]:
    schema = _resolve(schema, schemas)
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        rows.append(FieldRow(name, _type(prop, schemas), name in required, _notes(prop), depth))
        nested = prop.get("items", prop) if prop.get("type") == "array" else prop
        options = nested.get("anyOf", [nested])
        for option in options:
            ref = option.get("$ref") or option.get("items", {}).get("$ref")
            if ref and ref not in seen and depth < 2:
                rows += _fields({"$ref": ref}, schemas, depth + 1, seen + (ref,))
    return rows


def reference_context(document: dict) -> dict:
    schemas = document.get("components", {}).get("schemas", {})
    groups: dict[str, list[OperationView]] = {}
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            view = OperationView(
                method=method.upper(), path=path, summary=op.get("summary", ""),
                description=op.get("description", ""),
                anchor=op.get("operationId") or f"{method}-{path}".replace("/", "-").strip("-"),
                public=op.get("security") == [])
            for p in op.get("parameters", []):
                view.parameters.append(FieldRow(f"{p['name']} ({p['in']})", _type(p["schema"], schemas),
                                                p.get("required", False), _notes(p["schema"])))
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                view.body = _fields(body, schemas)
            for status, response in op.get("responses", {}).items():
                names = []
                for content in response.get("content", {}).values():
                    schema = content.get("schema", {})
                    if schema:
                        names.append(_type(schema, schemas))
                view.responses.append((status, response.get("description", ""), ", ".join(names)))
            tag = (op.get("tags") or ["Other"])[0]
            groups.setdefault(tag, []).append(view)
    models = {name: _fields(schema, schemas) for name, schema in schemas.items() if schema.get("properties")}
    return {"info": document["info"], "servers": document.get("servers", []), "groups": groups,
            "models": dict(sorted(models.items())), "openapi_version": document.get("openapi")}
