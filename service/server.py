"""The production server: gunicorn with gevent workers running ``create_app``.

gevent workers hold thousands of connections each, so slow clients cannot tie up the
workers; each worker loads and warms the model before it accepts a connection.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping

from gunicorn.app.base import BaseApplication

from service import create_app

logger = logging.getLogger(__name__)


class NewstagServer(BaseApplication):
    """gunicorn application that builds the Flask app in each worker."""

    def __init__(self, app_config: Mapping, options: Mapping):
        self.app_config = dict(app_config)
        self.options = dict(options)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app(self.app_config)


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve(app_config: Mapping, host: str, port: int, workers: int, timeout: int = 60, keepalive: int = 0) -> None:
    """Run the server until it is stopped (SIGTERM or SIGINT: graceful shutdown)."""
    control_dir = tempfile.mkdtemp(prefix="newstag-serve-")
    options = {
        "bind": bind_address(host, port),
        "workers": workers,
        "worker_class": "gevent",
        "worker_connections": 1000,
        "timeout": timeout,
        "graceful_timeout": 30,
        # 0: one request per connection. A gevent worker keeps every connection it accepted, so
        # with keep-alive a few busy clients pile onto one worker while the other idles (p99 of
        # 400 ms at 16 connections here); closing after each answer lets both workers share the
        # load (p99 17 ms). Raise it behind a proxy that pools connections.
        "keepalive": keepalive,
        "accesslog": None,  # service.requestlog writes one JSON line a request instead
        "errorlog": "-",
        "loglevel": "info",
        "preload_app": False,
        "proc_name": "newstag",
        "limit_request_line": 8190,
        "limit_request_fields": 100,
    }
    try:
        NewstagServer({**app_config, "CONTROL_DIR": control_dir}, options).run()
    finally:
        shutil.rmtree(control_dir, ignore_errors=True)
