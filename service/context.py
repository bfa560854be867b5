"""What a request handler reads from its app: the settings and the API contract."""

from __future__ import annotations

from flask import current_app

from newstag.settings import Settings
from service.schemas import Contract, Limits, build_contract
from service.serving import serving


def app_settings() -> Settings:
    return current_app.extensions["newstag_settings"]


def topic_ids() -> tuple[str, ...]:
    """The serving model's topics; the package taxonomy before a model is loaded."""
    loaded = serving().get()
    if loaded is not None:
        return loaded.model.taxonomy.ids
    from model.taxonomy import load_taxonomy

    return load_taxonomy().ids


def contract(ids: tuple[str, ...] | None = None) -> Contract:
    """The request and response models for this app's limits and the given (or serving) topics."""
    settings = app_settings()
    return build_contract(
        Limits(settings.max_text_chars, settings.max_batch, settings.max_page_chars, ids or topic_ids())
    )
