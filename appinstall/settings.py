"""Settings, read from ``APPINSTALL_*`` environment variables (and command-line flags that override them)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from appinstall.sandbox.models import AgentMode


class Settings(BaseSettings):
    """Everything an operator can set. Each field is documented in the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="APPINSTALL_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the SQLite database and the master key file live.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the store: postgresql+asyncpg://… for many processes; "
        "default: SQLite at APPINSTALL_DATA_DIR/appinstall.db.",
    )
    host: str = Field("127.0.0.1", description="Address `appinstall serve` listens on.")
    port: int = Field(8080, description="Port `appinstall serve` listens on.")
    operator_token: SecretStr | None = Field(
        None,
        description="The operator's bearer token. When unset, one is generated on first start, "
        "stored hashed and printed once.",
    )
    master_key: SecretStr | None = Field(
        None,
        description="Base64 of 32 bytes that encrypt client secrets at rest; may list older keys after "
        "a comma for rotation. When unset, APPINSTALL_DATA_DIR/master.key is used, made on first start.",
    )
    max_body_bytes: int = Field(65_536, ge=1024, description="Largest request body accepted (413 above).")
    secret_grace_seconds: int = Field(
        86_400, ge=0, description="How long a rotated client secret keeps working by default."
    )
    mask_client_secret: bool = Field(
        False, description="Hide client_secret in GET responses (it is still shown once on create and rotate)."
    )

    public_url: str | None = Field(
        None,
        description="The server's public base URL, for OAuth metadata and discovery; default: the URL of each request.",
    )
    token_issuer: str = Field("Sentinel", description="The `iss` of issued tokens (the platform's is `Sentinel`).")
    token_ttl_seconds: int = Field(3600, ge=60, le=86_400, description="Lifetime of AppJWTs and ConsumerJWSs.")
    signing_algorithm: Literal["RS256", "ES256", "EdDSA"] = Field("RS256", description="Algorithm of new signing keys.")

    auth_failures_per_client: int = Field(
        10, ge=1, description="Failed client authentications allowed per client per window before 429."
    )
    auth_failures_per_address: int = Field(
        50, ge=1, description="Failed client authentications allowed per source address per window before 429."
    )
    auth_failure_window_seconds: int = Field(60, ge=1, description="The window of those limits, in seconds.")

    dev: bool = Field(
        False,
        description="Development mode: webhooks may reach loopback and http:// endpoints. Never in production.",
    )
    worker: bool = Field(
        True,
        description="Run the webhook worker inside `appinstall serve`. On PostgreSQL, set false on API processes "
        "and run `appinstall worker` processes instead (or as well).",
    )
    sandbox_agent: AgentMode = Field(
        "off",
        description="The sandbox's scripted agent for every account: `echo` accepts each conversation a consumer "
        "writes in, marks the message read, types and replies with the same text; `off`, none. An account's own "
        "setting (`PUT /api/account/{accountId}/sandbox/agent`) overrides it.",
    )
    sandbox_send_per_second: float = Field(
        10.0,
        gt=0,
        description="Send API requests a consumer may make per second, on average, before the sandbox answers 429 "
        "(per consumer, per API process).",
    )
    sandbox_send_burst: int = Field(
        30, ge=1, description="Send API requests a consumer may make at once before that average applies."
    )
    worker_metrics_port: int | None = Field(
        None,
        description="Port on which `appinstall worker` serves Prometheus metrics (on APPINSTALL_HOST); none if unset.",
    )
    webhook_allow_cidrs: list[str] = Field(
        default_factory=list,
        description="Private networks webhooks may reach despite the SSRF guard, as a JSON list of CIDRs "
        '(e.g. ["10.1.0.0/16"]).',
    )
    webhook_ca_file: Path | None = Field(
        None, description="Extra CA certificates (PEM) trusted for webhook endpoints, e.g. a private CA."
    )
    webhook_connect_timeout_seconds: float = Field(5.0, gt=0, description="Connect timeout of a webhook request.")
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="Total timeout of a webhook request.")
    webhook_retry_first_delay_seconds: float = Field(
        1.0, gt=0, description="Delay before the first retry; later ones double (±20 % jitter)."
    )
    webhook_retention_first_delay_seconds: float = Field(
        2.0,
        gt=0,
        description="Retention mode (retry.retention_time): delay before the first retry; later ones double, "
        "up to 5 minutes.",
    )
    webhook_retry_jitter: float = Field(0.2, ge=0, lt=1, description="Jitter of retry delays, as a fraction.")
    webhook_retry_after_cap_seconds: float = Field(
        300.0, ge=0, description="Longest Retry-After (on 429 and 503) honoured before the next attempt."
    )
    webhook_disable_after_seconds: int = Field(
        86_400, ge=60, description="A webhook that has failed without a break for this long is disabled."
    )
    webhook_concurrency: int = Field(256, ge=1, description="Webhook requests in flight per worker process.")
    webhook_per_host_concurrency: int = Field(
        32,
        ge=1,
        description="Webhook requests in flight per endpoint host, per worker process. One installation has at most "
        "three times this many deliveries claimed at once, across all workers (its fair share).",
    )
    webhook_lease_seconds: int = Field(
        60,
        ge=2,
        description="How long a worker holds a delivery before another may take it over (after a crash); "
        "longer than the webhook timeout.",
    )

    @model_validator(mode="after")
    def _lease_outlasts_a_request(self) -> Settings:
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError(
                f"webhook_lease_seconds ({self.webhook_lease_seconds}) must be longer than "
                f"webhook_timeout_seconds ({self.webhook_timeout_seconds}), or a slow request could be sent twice"
            )
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'appinstall.db').resolve()}"

    @property
    def master_key_file(self) -> Path:
        return self.data_dir / "master.key"
