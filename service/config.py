"""Service settings: defaults, then ``NEWSTAG_*`` environment, then flags or a test mapping."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from model.artifact import default_model_root
from training.feedback import default_database_url

DEFAULTS: dict = {
    "MODEL_ROOT": None,  # None: the user's data directory (model.artifact.default_model_root)
    "MODEL": None,  # an explicit version directory or root to serve instead of MODEL_ROOT's current
    "LOAD_MODEL": True,  # load at start; tests of the no-model case turn it off
    "ADMIN_TOKEN": None,  # POST /v1/admin/reload is 404 while unset
    "CORS_ORIGINS": (),  # origins allowed to call the API from a browser
    "MAX_TEXT_CHARS": 20_000,
    "MAX_BATCH": 256,
    "MAX_PAGE_CHARS": 200_000,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "MAX_UPLOAD_BYTES": 10 * 1024 * 1024,  # .txt/.docx uploads to /v1/extract
    "CONTROL_DIR": None,  # shared by a server's workers so a reload reaches all of them
    "RELOAD_POLL_SECONDS": 0.5,
    "LOG_TEXTS": False,  # the access log shows request texts only when an operator asks for it
    "DATABASE_URL": None,  # None: SQLite in the user's data directory (training.feedback)
    "EDITOR_TOKENS": {},  # {editor name: token}; feedback is 404 while empty
    "GATE_MARGIN": 0.02,  # a reload is refused (409) if gate macro-F1 falls more than this
    "GATE_TOPIC_MARGIN": 0.05,  # … or any one topic's gate F1 falls more than this
}

# Environment variable -> (setting, parser).
_ENVIRONMENT = {
    "NEWSTAG_MODEL_ROOT": ("MODEL_ROOT", str),
    "NEWSTAG_MODEL": ("MODEL", str),
    "NEWSTAG_ADMIN_TOKEN": ("ADMIN_TOKEN", str),
    "NEWSTAG_CORS_ORIGINS": ("CORS_ORIGINS", lambda v: tuple(o.strip() for o in v.split(",") if o.strip())),
    "NEWSTAG_MAX_TEXT_CHARS": ("MAX_TEXT_CHARS", int),
    "NEWSTAG_MAX_BATCH": ("MAX_BATCH", int),
    "NEWSTAG_MAX_PAGE_CHARS": ("MAX_PAGE_CHARS", int),
    "NEWSTAG_MAX_BODY_BYTES": ("MAX_CONTENT_LENGTH", int),
    "NEWSTAG_MAX_UPLOAD_BYTES": ("MAX_UPLOAD_BYTES", int),
    "NEWSTAG_LOG_TEXTS": ("LOG_TEXTS", lambda v: v.strip().lower() in ("1", "true", "yes")),
    "NEWSTAG_DATABASE_URL": ("DATABASE_URL", str),
    "NEWSTAG_GATE_MARGIN": ("GATE_MARGIN", float),
    "NEWSTAG_GATE_TOPIC_MARGIN": ("GATE_TOPIC_MARGIN", float),
    "NEWSTAG_EDITOR_TOKENS": ("EDITOR_TOKENS", lambda v: parse_editor_tokens(v)),
}


def parse_editor_tokens(value: str) -> dict[str, str]:
    """``name:token,name2:token2`` -> {name: token}."""
    tokens = {}
    for pair in value.split(","):
        if not pair.strip():
            continue
        name, sep, token = pair.partition(":")
        if not sep or not name.strip() or not token.strip():
            raise ValueError(f"expected name:token, got {pair.strip()!r}")
        tokens[name.strip()] = token.strip()
    return tokens


class ConfigError(ValueError):
    """A setting has a value the service cannot use."""


def settings_from_environ(environ: Mapping[str, str]) -> dict:
    """The settings that ``NEWSTAG_*`` variables give (only those that are set)."""
    settings = {}
    for variable, (key, parse) in _ENVIRONMENT.items():
        value = environ.get(variable)
        if value is None or value == "":
            continue
        try:
            settings[key] = parse(value)
        except ValueError:
            raise ConfigError(f"{variable}={value!r} is not a valid value") from None
    return settings


def resolve(config: Mapping | None) -> dict:
    """Defaults overlaid with ``config``; fills in the model root."""
    settings = {**DEFAULTS, **(config or {})}
    settings["MODEL_ROOT"] = Path(settings["MODEL_ROOT"] or default_model_root()).expanduser()
    settings["DATABASE_URL"] = settings["DATABASE_URL"] or default_database_url()
    for key in ("MAX_TEXT_CHARS", "MAX_BATCH", "MAX_PAGE_CHARS", "MAX_CONTENT_LENGTH", "MAX_UPLOAD_BYTES"):
        if not isinstance(settings[key], int) or settings[key] < 1:
            raise ConfigError(f"{key} must be a positive integer, not {settings[key]!r}")
    return settings
