"""``newstag serve``: the HTTP service on gunicorn with gevent workers."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from newstag.cli.options import default_province, ensure_trained, model_option, province_option, settings


@click.command()
@click.option("--host", help="Address to listen on (default: NEWSTAG_HOST).")
@click.option("--port", type=int, help="Port to listen on (default: NEWSTAG_PORT).")
@click.option("--workers", type=int, help="Worker processes; each loads the model once (default: NEWSTAG_WORKERS).")
@click.option(
    "--keepalive",
    type=int,
    help="Seconds a connection may wait for its next request; 0 closes it after each answer (NEWSTAG_KEEPALIVE).",
)
@province_option
@model_option
def serve(host, port, workers, keepalive, province, model):
    """Run the HTTP service (gunicorn with gevent workers) until stopped.

    Serves the JSON API, /openapi.json and the editor page. Settings come from NEWSTAG_*
    variables (NEWSTAG_MODEL_ROOT, NEWSTAG_ADMIN_TOKEN, NEWSTAG_CORS_ORIGINS, limits), then
    these flags. Without --model it serves the root's current model, training the bundled
    one first if the root has none.

    \b
    Example:
      NEWSTAG_ADMIN_TOKEN=s3cret newstag serve --port 8000 --workers 2
    """
    from model.artifact import resolve_model_dir, verify
    from service.server import run_server

    province = default_province(province)  # checked here: a worker that fails to boot says less
    config = settings(host=host, port=port, workers=workers, keepalive=keepalive, default_province=province)
    if model is not None:
        version_dir = resolve_model_dir(Path(model))
        config = config.replace(model=version_dir)
    else:
        ensure_trained(config.root)
        version_dir = resolve_model_dir(config.root)
    verify(version_dir)
    logging.getLogger().setLevel(logging.INFO)
    click.echo(f"newstag: serving {version_dir.name} on http://{config.host}:{config.port}", err=True)
    sys.stderr.flush()
    run_server(config)
