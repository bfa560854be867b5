"""Every ``NEWSTAG_*`` setting, declared once with its type, default and meaning.

Sources, weakest first: these defaults, the ``NEWSTAG_<NAME>`` environment variables, then the
command line's flags or a test's mapping. The command line and ``service.create_app`` both build
a :class:`Settings` with :func:`load_settings`; nothing else reads the environment.

This is a pydantic model with a small environment reader rather than pydantic-settings, whose
import alone (about 0.27 s here) would be most of the time of ``newstag --help``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from model.errors import NewstagError
from model.places import DEFAULT_PROVINCE
from training.corpus import MAX_TEXT_CHARS
from training.gate import GateMargins

ENV_PREFIX = "NEWSTAG_"
# Settings whose empty value is a value, not "unset": NEWSTAG_DEFAULT_PROVINCE= means no default province.
EMPTY_IS_A_VALUE = frozenset({"default_province"})


class ConfigError(NewstagError):
    """A setting has a value newstag cannot use; the message names the variable."""


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _editor_tokens(value: Any) -> Any:
    """``name:token,name2:token2`` -> {name: token}; mappings pass through."""
    if not isinstance(value, str):
        return value
    tokens = {}
    for pair in value.split(","):
        if not pair.strip():
            continue
        name, sep, token = pair.partition(":")
        if not sep or not name.strip() or not token.strip():
            raise ValueError(f"expected name:token, got {pair.strip()!r}")
        tokens[name.strip()] = token.strip()
    return tokens


CommaList = Annotated[tuple[str, ...], BeforeValidator(_comma_list)]
EditorTokens = Annotated[dict[str, str], BeforeValidator(_editor_tokens)]
Positive = Annotated[int, Field(ge=1)]


class Settings(BaseModel):
    """newstag's configuration. Field ``x`` is read from ``NEWSTAG_X``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_root: Path | None = Field(
        None, description="model versions and the `current` pointer (default: the user's data directory)"
    )
    model: Path | None = Field(None, description="serve this version directory instead of the root's current")
    host: str = Field("127.0.0.1", description="address `serve` listens on")
    port: int = Field(8000, ge=0, le=65535, description="port `serve` listens on")
    workers: int = Field(2, ge=1, le=64, description="worker processes of `serve`; each loads the model once")
    keepalive: int = Field(
        0,
        ge=0,
        le=300,
        description="seconds a client connection may idle between requests; 0 closes it after each answer",
    )
    admin_token: str | None = Field(None, description="bearer token for /v1/admin/*; unset: they answer 404")
    cors_origins: CommaList = Field((), description="comma-separated origins allowed to call the API from a browser")
    max_text_chars: Positive = Field(MAX_TEXT_CHARS, description="longest text")
    max_batch: Positive = Field(256, description="most texts in one classify call")
    max_page_chars: Positive = Field(200_000, description="longest page for tag-page")
    max_body_bytes: Positive = Field(2 * 1024 * 1024, description="largest request body")
    max_upload_bytes: Positive = Field(10 * 1024 * 1024, description="largest upload to /v1/extract")
    editor_tokens: EditorTokens = Field(
        default_factory=dict, description="`name:token,name:token`; unset: feedback answers 404"
    )
    database_url: str | None = Field(
        None, description="feedback store: sqlite:///path or postgresql://… (default: SQLite in the data directory)"
    )
    gate_margin: float = Field(
        GateMargins.macro, ge=0, le=1, description="how far gate macro-F1 may fall below the current model's"
    )
    gate_topic_margin: float = Field(
        GateMargins.topic, ge=0, le=1, description="how far any one topic's gate F1 may fall"
    )
    log_texts: bool = Field(False, description="show request texts in the access log")
    default_province: str = Field(
        DEFAULT_PROVINCE,
        description="province that settles place names several divisions share (朝阳, 普陀); empty: none",
    )
    # Knobs for tests and the server itself, not for operators.
    load_model: bool = Field(True, description="load the model when the app starts")
    control_dir: Path | None = Field(None, description="directory a server's workers share to follow reloads")
    reload_poll_seconds: float = Field(0.5, gt=0, description="how often workers look for a reload")

    @property
    def root(self) -> Path:
        """The model root, defaulted and expanded."""
        if self.model_root is not None:
            return Path(self.model_root).expanduser()
        from model.artifact import default_model_root

        return default_model_root()

    @property
    def database(self) -> str:
        """The feedback store's URL, defaulted."""
        if self.database_url:
            return self.database_url
        from training.feedback import default_database_url

        return default_database_url()

    def checked_province(self) -> str:
        """The default province, once the gazetteer knows it (else a ConfigError naming the variable)."""
        from model.places import UnknownProvince, check_province

        try:
            return check_province(self.default_province)
        except UnknownProvince as exc:
            raise ConfigError(f"{env_name('default_province')}={self.default_province!r}: {exc}") from None

    @property
    def margins(self) -> GateMargins:
        return GateMargins(self.gate_margin, self.gate_topic_margin)

    def replace(self, **changes) -> Settings:
        """A copy with some settings changed and checked (flags over what was loaded)."""
        return load_settings({**self.model_dump(exclude_unset=True), **changes}, environ={})


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _from_environ(environ: Mapping[str, str]) -> dict[str, str]:
    values = {}
    for field in Settings.model_fields:
        value = environ.get(env_name(field))
        if value is not None and (value.strip() != "" or field in EMPTY_IS_A_VALUE):
            values[field] = value.strip()
    return values


def load_settings(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults < ``NEWSTAG_*`` in ``environ`` (the process environment by default) < ``overrides``.

    Override keys are field names in any case (``MAX_BATCH`` or ``max_batch``); ``None`` values
    are ignored, so unset command-line flags leave the environment's value in force.
    """
    from_env = _from_environ(os.environ if environ is None else environ)
    given = {str(k).lower(): v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(given) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    try:
        return Settings(**{**from_env, **given})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        if field in given:
            where = f"{field}={given[field]!r}"
        else:
            where = f"{env_name(field)}={from_env.get(field)!r}"
        raise ConfigError(f"{where}: {error['msg']}") from None
