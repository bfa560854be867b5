"""newstag's HTTP service: ``create_app(config)`` builds the Flask app."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from service import api, errors, extract, feedback, openapi, page, requestlog
from service.config import resolve
from service.serving import ServingModel

__all__ = ["create_app"]


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app: settings (defaults < given mapping), the model, blueprints, handlers.

    The caller merges environment and flags into ``config``; nothing here reads the
    environment. Loading the model happens here, so a worker is warm before it takes traffic.
    """
    app = Flask(__name__)
    app.config.update(resolve(config))
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    errors.init_app(app)
    requestlog.init_app(app)
    ServingModel().init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(extract.bp)
    app.register_blueprint(page.bp)
    feedback.init_app(app)
    return app
