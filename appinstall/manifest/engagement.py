"""The ``capabilities.engagement`` object: how the app engages consumers, in the vocabulary's values."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StrictBool

from appinstall.manifest.fields import FalseOnly
from appinstall.manifest.strict import UNIQUE, StrictModel, rule_error, unique
from appinstall.manifest.vocabulary import (
    REQUIRED_CONSUMER_IDENTITY,
    ConsumerIdentity,
    EntryPoint,
    Goal,
    TargetAudience,
    VisitorBehavior,
)


def _must_include_auth(values: list[ConsumerIdentity]) -> list[ConsumerIdentity]:
    if REQUIRED_CONSUMER_IDENTITY not in values:
        raise rule_error(
            "missing_value",
            "must include {required}",
            {"required": REQUIRED_CONSUMER_IDENTITY, "hint": f'add "{REQUIRED_CONSUMER_IDENTITY}"'},
        )
    return values


class Engagement(StrictModel):
    """How the app engages consumers through the platform's engagements API. Every field is required."""

    design_engagement: FalseOnly = Field(description="Must be `false`.")
    design_window: FalseOnly = Field(description="Must be `false`.")
    entry_point: Annotated[list[EntryPoint], UNIQUE, AfterValidator(unique)] = Field(
        description="Where the invitation to engage is shown."
    )
    visitor_behavior: Annotated[list[VisitorBehavior], UNIQUE, AfterValidator(unique)] = Field(
        description="Browsing behaviour of interest."
    )
    target_audience: Annotated[list[TargetAudience], UNIQUE, AfterValidator(unique)] = Field(
        description="Visitors to target."
    )
    goal: Annotated[list[Goal], UNIQUE, AfterValidator(unique)] = Field(
        description="What the engagement should achieve."
    )
    consumer_identity: Annotated[
        list[ConsumerIdentity], UNIQUE, AfterValidator(unique), AfterValidator(_must_include_auth)
    ] = Field(
        description=f"Whether consumers must be authenticated; must include `{REQUIRED_CONSUMER_IDENTITY}`.",
        json_schema_extra={"contains": {"const": REQUIRED_CONSUMER_IDENTITY}},
    )
    language_selection: StrictBool = Field(description="Whether the consumer may choose a language.")
