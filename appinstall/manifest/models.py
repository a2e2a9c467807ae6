"""The App Install manifest as typed, strict pydantic models: the top level and its ``capabilities``.

The parts have a module each: the strict base and our rules' errors (``strict.py``), the field types
(``fields.py``), the webhooks object made from the vocabulary (``subscriptions.py``) and the engagement object
(``engagement.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictStr, field_validator

from appinstall.manifest import rules
from appinstall.manifest.engagement import Engagement
from appinstall.manifest.fields import (
    ClientName,
    Description,
    GrantType,
    LogoUri,
    Scope,
    default_grant_types,
    must_include_client_credentials,
)
from appinstall.manifest.strict import UNIQUE, StrictModel, reject_null, unique
from appinstall.manifest.subscriptions import Webhooks


class Capabilities(StrictModel):
    """What the app implements; other apps discover it by these."""

    webhooks: Webhooks | None = Field(None, description="Notification subscriptions.")
    engagement: Engagement | None = Field(None, description="Engagement capabilities.")

    @field_validator("webhooks", "engagement", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return reject_null(value)


class Manifest(StrictModel):
    """An App Install manifest: what a connector app is and what it wants from the platform."""

    client_name: ClientName = Field(
        description="The installation's name, usually the app's. Unique within an account, compared after NFKC "
        "case folding without invisible characters (Straße is STRASSE); trimmed; 1 to 100 characters, not all "
        "invisible."
    )
    description: Description | None = Field(None, description="What the app does, at most 256 characters.")
    grant_types: Annotated[
        list[GrantType], UNIQUE, AfterValidator(unique), AfterValidator(must_include_client_credentials)
    ] = Field(
        default_factory=default_grant_types,
        json_schema_extra={"default": [rules.CLIENT_CREDENTIALS], "contains": {"const": rules.CLIENT_CREDENTIALS}},
        description="OAuth grants the app may use; `client_credentials` is the only one and is required.",
    )
    scope: Scope = Field(
        rules.REQUIRED_SCOPE,
        description="Space-separated OAuth scopes, at most 128 characters; must include `msg.consumer`.",
    )
    logo_uri: LogoUri | None = Field(
        None,
        description="An https:// URL or an absolute path to the app's logo, at most 128 characters; "
        '`""` means no logo.',
    )
    capabilities: Capabilities | None = Field(None, description="Webhooks and engagement capabilities.")
    schema_uri: StrictStr | None = Field(
        None,
        alias="$schema",
        title="JSON Schema",
        exclude=True,
        description="The JSON Schema an editor checks the file against; accepted and dropped from the manifest.",
    )

    @field_validator("description", "logo_uri", "capabilities", "schema_uri", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return reject_null(value)

    def to_document(self) -> dict[str, Any]:
        """The normalised manifest as JSON-ready data, with the platform's key names."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
