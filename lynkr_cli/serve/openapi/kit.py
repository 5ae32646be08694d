"""Small builders of JSON Schema (2020-12, as OpenAPI 3.1 uses it) for the document."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
COUNT: Schema = {"type": "integer", "minimum": 0}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
OBJ: Schema = {"type": "object"}
NULL: Schema = {"type": "null"}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(props: dict[str, Schema], required: tuple[str, ...] = (), **more: Any) -> Schema:
    """An object with these properties; unknown ones allowed unless ``more`` says not."""
    doc: Schema = {"type": "object", "properties": props}
    if required:
        doc["required"] = list(required)
    doc.update(more)
    return doc


def const(value: str) -> Schema:
    return {"type": "string", "const": value}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def maybe(schema: Schema) -> Schema:
    """``schema`` or null."""
    return {"anyOf": [schema, NULL]}


def array(items: Schema, **more: Any) -> Schema:
    return {"type": "array", "items": items, **more}


def typed(kinds: dict[str, Schema], other: str) -> Schema:
    """One of ``kinds`` by its ``type``, or an object whose ``type`` is none of them."""
    rest = obj({"type": {"type": "string", "not": {"enum": list(kinds)}}}, ("type",))
    rest["description"] = other
    return {"anyOf": [*kinds.values(), rest]}


def block(kind: str, props: dict[str, Schema], required: tuple[str, ...]) -> Schema:
    """An object whose ``type`` is ``kind``."""
    return obj({"type": const(kind), **props}, ("type", *required))


def json_text(schema: str) -> Schema:
    """A string holding JSON that matches ``schema`` (how an SSE event's data is described)."""
    return {"contentMediaType": "application/json", "contentSchema": ref(schema)}


def sse(data: Schema, *, event: bool, description: str) -> Schema:
    """One server-sent event, as OpenAPI 3.2 describes an event stream's items (``itemSchema``)
    and tools read a 3.1 ``text/event-stream`` schema: ``event``, ``data``, ``id``, ``retry``."""
    props: dict[str, Schema] = {"event": STR, "data": data, "id": STR, "retry": COUNT}
    return obj(props, ("event", "data") if event else ("data",), description=description)
