"""What a client (or a mock server) builds from the bundled documents alone: a schema's example,
else its properties' examples, else a placeholder of the right type."""

from __future__ import annotations


def resolve(document: dict, node):
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/")]
        node = target
    return node


def example_of(document: dict, schema) -> object:
    """What a mock server builds from a schema: its example, else its properties' examples."""
    schema = resolve(document, schema or {})
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("oneOf", "anyOf", "allOf"):
        if schema.get(combinator):
            return example_of(document, schema[combinator][0])
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        return {name: example_of(document, sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example_of(document, schema.get("items", {}))]
    return {"integer": 1, "number": 1.5, "boolean": True}.get(kind, "string")
