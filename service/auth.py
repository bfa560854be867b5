"""Bearer tokens: the admin token for /v1/admin/* and feedback listing, editor tokens for corrections.

Tokens are compared with hmac.compare_digest, so answer times say nothing about a guess.
"""

from __future__ import annotations

import hmac

from flask import request

from service.context import app_settings
from service.errors import APIError

_NOT_FOUND = "The requested URL was not found on the server."


def bearer_token() -> str:
    """The token of an ``Authorization: Bearer …`` header, or ""."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else ""


def require_admin() -> None:
    """404 while no admin token is configured (the endpoint stays hidden), 401 for a wrong one."""
    token = app_settings().admin_token
    if not token:
        raise APIError(404, "not_found", _NOT_FOUND)
    if not hmac.compare_digest(bearer_token().encode(), token.encode()):
        raise APIError(401, "unauthorized", "a valid 'Authorization: Bearer <admin token>' header is required")


def require_feedback() -> None:
    """404 while no editors are configured: feedback endpoints stay hidden."""
    if not app_settings().editor_tokens:
        raise APIError(404, "not_found", _NOT_FOUND)


def require_editor() -> str:
    """The name of the editor whose token came; 404 while no editors are configured, 401 otherwise."""
    require_feedback()
    tokens: dict[str, str] = app_settings().editor_tokens
    given = bearer_token().encode()
    editor = None
    for name, token in tokens.items():  # compare with every token, so timing says nothing
        if hmac.compare_digest(given, token.encode()):
            editor = name
    if editor is None:
        raise APIError(401, "unauthorized", "a valid 'Authorization: Bearer <editor token>' header is required")
    return editor
