"""Settings, read from ``APPINSTALL_*`` environment variables (and command-line flags that override them)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from appinstall.http.client_address import parse_networks

AgentMode = Literal["off", "echo"]
"""The sandbox's scripted agents: defined with the setting that names them (the sandbox imports it from here), so
that settings, read by everything, import no domain."""

# The URL schemes people paste, and the async driver each means: the store runs on asyncpg or aiosqlite only.
_SCHEMES = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


def normalise_database_url(url: str) -> str:
    """``url`` with the async driver the store uses: ``postgresql://`` and ``postgres://`` (the forms hosting
    providers print) mean ``postgresql+asyncpg://``, ``sqlite://`` means ``sqlite+aiosqlite://``. Any other scheme,
    or another driver, is refused with the forms that work."""
    scheme, separator, rest = url.strip().partition("://")
    if not separator or not rest:
        raise ValueError("is not a database URL; use postgresql://user:password@host:5432/name or sqlite:///path")
    driver = _SCHEMES.get(scheme.lower())
    if driver is None:
        raise ValueError(f"scheme {scheme!r} is not supported; use postgresql://… (asyncpg) or sqlite:///… (aiosqlite)")
    return f"{driver}://{rest}"


class Settings(BaseSettings):
    """Everything an operator can set. Each field is documented in the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="APPINSTALL_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the SQLite database and the master key file live.")
    database_url: str | None = Field(
        None,
        description="URL of the store: postgresql://… (asyncpg) for many processes; "
        "default: SQLite at APPINSTALL_DATA_DIR/appinstall.db.",
    )
    host: str = Field("127.0.0.1", description="Address `appinstall serve` listens on.")
    port: int = Field(8080, ge=1, le=65_535, description="Port `appinstall serve` listens on.")
    operator_token: SecretStr | None = Field(
        None,
        description="The operator's bearer token. When unset, one is generated on first start, "
        "stored hashed and printed once.",
    )
    master_key: SecretStr | None = Field(
        None,
        description="Base64 of 32 bytes that seal client secrets and signing keys at rest; may list older keys after "
        "a comma for rotation. When unset, APPINSTALL_DATA_DIR/master.key is used, made on the first start of an empty "
        "store (never once anything is sealed).",
    )
    max_body_bytes: int = Field(65_536, ge=1024, description="Largest request body accepted (413 above).")
    max_batch_body_bytes: int = Field(
        4_194_304,
        ge=1024,
        le=67_108_864,
        description="Largest body of a batch publish (`POST …/notifications:batch`, up to 1,000 notifications; "
        "413 above): about 4 KB a notification by default.",
    )
    http_max_header_bytes: int = Field(
        16_384,
        ge=1024,
        le=1_048_576,
        description="Largest request line plus headers `appinstall serve` reads (431 above).",
    )
    http_max_headers: int = Field(100, ge=8, le=10_000, description="Most headers a request may carry (431 above).")
    http_keep_alive_seconds: int = Field(
        5,
        ge=1,
        le=600,
        description="How long a connection may stay idle, before its first request or between two, before it is "
        "closed.",
    )
    http_header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=600,
        description="Time from a request's first byte to the end of its headers (408 and closed after it).",
    )
    http_body_timeout_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="Time from the end of a request's headers to the end of its body (closed after it).",
    )
    http_max_connections: int = Field(
        1024,
        ge=1,
        le=1_000_000,
        description="Connections `appinstall serve` keeps open at once; one more is answered 503 and closed.",
    )
    secret_grace_seconds: int = Field(
        86_400, ge=0, description="How long a rotated client secret keeps working by default."
    )
    console_session_minutes: int = Field(
        480,
        ge=5,
        le=10_080,
        description="How long a console sign-in lasts, in minutes (then sign in again); revoking the key ends it "
        "at once.",
    )
    mask_client_secret: bool = Field(
        False,
        description="Hide client_secret in GET responses (it is still shown once on create and rotate), and show "
        "webhook header values as `…`.",
    )

    public_url: str | None = Field(
        None,
        description="The server's public base URL, announced in OAuth metadata and domain discovery. When unset, "
        "each request's own URL, if its Host is in APPINSTALL_ALLOWED_HOSTS (or a loopback host in --dev); "
        "other Hosts get 400 there.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="When APPINSTALL_PUBLIC_URL is unset: the Host header values this server answers discovery "
        'and OAuth metadata for, as a JSON list (e.g. ["api.example.com", "localhost:8080"]; no port: any port).',
    )
    token_issuer: str = Field("Sentinel", description="The `iss` of issued tokens (the platform's is `Sentinel`).")
    token_ttl_seconds: int = Field(3600, ge=60, le=86_400, description="Lifetime of AppJWTs and ConsumerJWSs.")
    signing_algorithm: Literal["RS256", "ES256", "EdDSA"] = Field("RS256", description="Algorithm of new signing keys.")

    auth_failures_per_client: int = Field(
        10,
        ge=1,
        description="Failed client authentications allowed per client from one source address per window before 429.",
    )
    auth_failures_per_address: int = Field(
        50, ge=1, description="Failed client authentications allowed per source address per window before 429."
    )
    auth_failure_window_seconds: int = Field(60, ge=1, description="The window of those limits, in seconds.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Reverse proxies whose X-Forwarded-For is believed, as a JSON list of CIDRs "
        '(e.g. ["10.0.0.0/8"]); default none: the header is ignored and the peer is the source address.',
    )

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
    log_format: Literal["text", "json"] = Field(
        "text",
        description="How `serve` and `worker` write their log lines to standard error: readable text, or one JSON "
        "object per line (for a log collector).",
    )
    worker_metrics_port: int | None = Field(
        None,
        ge=1,
        le=65_535,
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
    delivery_log_days: int = Field(
        30,
        ge=0,
        le=3650,
        description="Finished deliveries, their attempts and notifications are removed this many days after they "
        "were published (unfinished ones never); 0 keeps them for ever.",
    )
    audit_log_days: int = Field(
        365, ge=0, le=36500, description="Audit events are removed this many days after; 0 keeps them for ever."
    )
    webhook_lease_seconds: int = Field(
        60,
        ge=2,
        description="How long a worker holds a delivery before another may take it over (after a crash); "
        "longer than the webhook timeout.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        parse_networks(values)
        return values

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value.strip() or any(mark in value for mark in ("/", "@", " ", ",")):
                raise ValueError(f"{value!r} is not a host or host:port (no scheme, no path)")
        return values

    @field_validator("database_url")
    @classmethod
    def _asyncpg_or_aiosqlite(cls, url: str | None) -> str | None:
        return None if url is None else normalise_database_url(url)

    @model_validator(mode="after")
    def _lease_outlasts_a_request(self) -> Settings:
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError(
                f"APPINSTALL_WEBHOOK_LEASE_SECONDS ({self.webhook_lease_seconds}) must be longer than "
                f"APPINSTALL_WEBHOOK_TIMEOUT_SECONDS ({self.webhook_timeout_seconds:g}), or a slow request could be "
                "sent twice: raise the first or lower the second"
            )
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'appinstall.db').resolve()}"

    @property
    def master_key_file(self) -> Path:
        return self.data_dir / "master.key"
