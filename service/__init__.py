"""newstag's HTTP service: ``create_app(config)`` builds the Flask app."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from newstag.settings import Settings, load_settings
from service import accesslog, api, cors, errors, extract, feedback, headers, openapi, page
from service.serving import ServingModel

__all__ = ["create_app"]


def create_app(config: Settings | Mapping | None = None) -> Flask:
    """Build the app: settings, the model, blueprints, handlers.

    ``config`` is a :class:`~newstag.settings.Settings` (the command line builds one) or a
    mapping of settings laid over the ``NEWSTAG_*`` environment (what tests pass). Loading the
    model happens here, so a worker is warm before it takes traffic.
    """
    settings = config if isinstance(config, Settings) else load_settings(config)
    settings.checked_province()  # an unknown default province stops the app here, not at its first answer
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["newstag_settings"] = settings
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    errors.init_app(app)
    cors.init_app(app)
    headers.init_app(app)
    accesslog.init_app(app)
    ServingModel().init_app(app, settings)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(extract.bp)
    app.register_blueprint(page.bp)
    feedback.init_app(app, settings)
    return app
