"""The model a service process answers with, and how a reload reaches every worker.

Each worker holds one :class:`~model.artifact.LoadedModel` and swaps the reference when it
reloads; a request takes the reference once, so in-flight requests finish on the model they
started with. A server's workers share a control directory: the worker that performs a reload
writes the new version's path there, and the others follow within ``RELOAD_POLL_SECONDS``.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from pathlib import Path

from flask import Flask, current_app

from model.artifact import LoadedModel, load_model, resolve_model_dir
from newstag.settings import Settings

logger = logging.getLogger(__name__)

CONTROL_FILE = "serving"


class OutsideRoot(ValueError):
    """A model path that leaves the configured model root."""


class ServingModel:
    """Holds the loaded model of one process; registered on the app as an extension."""

    def __init__(self) -> None:
        self._loaded: LoadedModel | None = None
        self._lock = threading.Lock()
        self.root: Path | None = None
        self.control: Path | None = None
        self.poll_seconds = 0.5

    # -- setup -----------------------------------------------------------------------------

    def init_app(self, app: Flask, settings: Settings) -> None:
        """Load and warm the configured model (raising if it fails) and start following reloads."""
        app.extensions["newstag_model"] = self
        self.root = settings.root
        self.control = Path(settings.control_dir) / CONTROL_FILE if settings.control_dir else None
        self.poll_seconds = settings.reload_poll_seconds
        if not settings.load_model:
            return
        target = self._control_target() or settings.model or self.root
        self._install(self._load(Path(target)))
        if self.control is not None:
            threading.Thread(target=self._follow, name="newstag-reload", daemon=True).start()

    # -- reading ---------------------------------------------------------------------------

    def get(self) -> LoadedModel | None:
        """The model to answer the current request with (take it once per request)."""
        return self._loaded

    @property
    def ready(self) -> bool:
        return self._loaded is not None

    # -- reloading -------------------------------------------------------------------------

    def within_root(self, value: str | None) -> Path:
        """The version directory a reload names (a path or version id), confined to the root."""
        assert self.root is not None
        path = self.root if not value else Path(value)
        if not path.is_absolute():
            path = self.root / path
        if "\x00" in str(path):
            raise OutsideRoot(f"{value!r}: a path cannot hold a NUL character")
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise OutsideRoot(f"{value}: not inside the model root")
        return resolve_model_dir(Path(real))

    def load_candidate(self, version_dir: Path) -> LoadedModel:
        """Load, verify and warm a model without serving it yet."""
        return self._load(version_dir)

    def swap(self, loaded: LoadedModel) -> LoadedModel | None:
        """Serve ``loaded`` from now on here, and tell the other workers."""
        previous = self._install(loaded)
        if self.control is not None:
            tmp = self.control.with_name(f".{CONTROL_FILE}.{os.getpid()}.tmp")
            tmp.write_text(str(loaded.path), encoding="utf-8")
            os.replace(tmp, self.control)
        return previous

    # -- internals -------------------------------------------------------------------------

    @staticmethod
    def _load(path: Path) -> LoadedModel:
        loaded = load_model(path)
        loaded.model.warm()
        return loaded

    def _install(self, loaded: LoadedModel) -> LoadedModel | None:
        with self._lock:
            previous, self._loaded = self._loaded, loaded
            # The model is hundreds of thousands of long-lived objects: keep them out of the
            # cyclic collector, whose full passes over them would stall requests for ~50 ms.
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        logger.info("serving model %s (pid %d)", loaded.version, os.getpid())
        return previous

    def _control_target(self) -> str | None:
        if self.control is None:
            return None
        try:
            return self.control.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def _follow(self) -> None:
        """Poll the control file; load what another worker switched to."""
        while True:
            time.sleep(self.poll_seconds)
            target = self._control_target()
            current = self._loaded
            if target is None or (current is not None and str(current.path) == target):
                continue
            try:
                self._install(self._load(Path(target)))
            except Exception:  # keep serving the old model; the next poll tries again
                logger.exception("could not follow the reload to %s", target)
                time.sleep(5 * self.poll_seconds)


def serving() -> ServingModel:
    """The current app's serving model."""
    return current_app.extensions["newstag_model"]
