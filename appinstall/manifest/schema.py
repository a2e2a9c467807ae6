"""The published JSON Schema (2020-12), generated from the models so that there is one source of truth."""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from appinstall.manifest import rules, vocabulary
from appinstall.manifest.models import Manifest

SCHEMA_ID = "https://appinstall.dev/schemas/manifest.schema.json"


class _ManifestSchemaGenerator(GenerateJsonSchema):
    """Pydantic's generator, minus what our validator does not accept.

    Optional fields are typed ``X | None`` in Python but the validator refuses an explicit ``null`` (leave the
    key out instead), so the schema must not offer ``null`` either; and a ``None`` default says nothing useful.
    """

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        generated = super().default_schema(schema)
        if generated.get("default", ...) is None:
            del generated["default"]
        return generated


def _accept_legacy_spelling(schema: dict[str, Any]) -> None:
    """Publish the seed table's spelling of the conversation-change key, as the validator accepts it."""
    webhooks = schema["$defs"]["Webhooks"]
    current = webhooks["properties"][vocabulary.EX_CONVERSATION_CHANGE]
    webhooks["properties"][vocabulary.LEGACY_EX_CONVERSATION_CHANGE] = {
        **current,
        "deprecated": True,
        "description": f"Deprecated spelling of {vocabulary.EX_CONVERSATION_CHANGE}.",
    }
    webhooks["not"] = {"required": [vocabulary.EX_CONVERSATION_CHANGE, vocabulary.LEGACY_EX_CONVERSATION_CHANGE]}


def _accept_server_fields(schema: dict[str, Any]) -> None:
    """Publish the server-owned fields a read returns as read-only, as the validator ignores them (with a warning)
    rather than refusing them: a manifest saved from a read must not fail in an editor and pass on upload."""
    for key in rules.SERVER_FIELDS:
        schema["properties"][key] = {"readOnly": True, "description": "Set by the server; ignored in a manifest."}


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of an App Install manifest."""
    generated = Manifest.model_json_schema(by_alias=True, schema_generator=_ManifestSchemaGenerator)
    _accept_legacy_spelling(generated)
    _accept_server_fields(generated)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **generated,
        "title": "App Install manifest",
    }


def manifest_schema_text() -> str:
    """The schema as committed under ``schemas/``: stable key order, two-space indent, final newline."""
    return json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n"
