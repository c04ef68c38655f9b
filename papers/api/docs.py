"""/api/v1/docs/: the API documented for people, on a page of ours rendered from the same
OpenAPI schema that /api/v1/schema/ serves: no script, so it needs nothing from another site
and works under the strict Content-Security-Policy like every other page."""

import functools
import json

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe

from papers import pagecache
from papers.api import schemas
from papers.api.endpoints import api


@functools.cache
def operations():
    """Each operation of the schema: method, path, summary, description, parameters and the
    fields of what it answers."""
    schema = api.get_openapi_schema()
    components = schema.get("components", {}).get("schemas", {})
    found = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            ok = operation["responses"].get("200", {})
            body = ok.get("content", {}).get("application/json", {}).get("schema", {})
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": operation["operationId"],
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [_parameter(p) for p in operation.get("parameters", [])],
                    "fields": _fields(body, components),
                    "statuses": sorted(operation["responses"]),
                }
            )
    return found


def _type(schema):
    if "enum" in schema:
        return "one of " + ", ".join(str(value) for value in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(
            _type(option) for option in schema["anyOf"] if option != {"type": "null"}
        )
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    return schema.get("format") or schema.get("type", "")


def _parameter(parameter):
    schema = parameter.get("schema", {})
    return {
        "name": parameter["name"],
        "where": parameter["in"],
        "required": parameter.get("required", False),
        "type": _type(schema),
        "description": schema.get("description", parameter.get("description", "")),
    }


def _fields(schema, components):
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return [
        {"name": name, "type": _type(field), "description": field.get("description", "")}
        for name, field in schema.get("properties", {}).items()
    ]


@require_safe
@pagecache.for_readers
def docs(request):
    components = api.get_openapi_schema().get("components", {}).get("schemas", {})
    models = [
        {"name": name, "fields": _fields(schema, components)}
        for name, schema in sorted(components.items())
        if name not in {"Error"}
    ]
    context = {
        "operations": operations(),
        "models": models,
        "rate": settings.STANDPOINT_API_RATE,
        "max_limit": schemas.MAX_LIMIT,
        "default_limit": schemas.DEFAULT_LIMIT,
        "example_error": json.dumps(
            {
                "detail": "kind: Input should be 'factual', 'historical', …",
                "errors": [{"parameter": "kind", "problem": "Input should be 'factual', …"}],
            },
            indent=2,
            ensure_ascii=False,
        ),
    }
    return render(request, "api/docs.html", context)
