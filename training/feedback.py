"""The feedback store: editors' corrections, kept durably for the next training run.

One setting picks the database: ``sqlite:///path`` (the default; WAL mode, full sync) or
``postgresql://…`` when several service replicas share one store. SQLAlchemy Core talks to
both; the schema carries a version number and migrates forward when a store is opened.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import platformdirs
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from model.errors import NewstagError
from model.normalize import normalize
from training.corpus import Record

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: a correction may say "none of our topics" and list other acceptable topics

metadata = MetaData()

schema_table = Table(
    "newstag_schema",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
)

corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("editor", String(100), nullable=False),
    Column("text", Text, nullable=False),
    Column("text_sha256", String(64), nullable=False, index=True),
    Column("topic", String(40)),  # None: the text belongs to none of the topics
    Column("also", Text),  # other acceptable topics, "|"-separated
    Column("kind", String(20), nullable=False),
    Column("predicted", String(40)),
    Column("model_version", String(64)),
    Column("item_id", String(200)),
    Column("note", Text),
)


class FeedbackError(NewstagError):
    """The store cannot be opened or written; the message says which and why."""


def default_database_url() -> str:
    """SQLite in the user's data directory."""
    return f"sqlite:///{platformdirs.user_data_path('newstag') / 'feedback.sqlite3'}"


def text_key(value: str) -> str:
    """Corrections of the same text (after normalisation) share this key."""
    return hashlib.sha256(normalize(value).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Correction:
    """What an editor says a text's topic is."""

    text: str
    topic: str | None  # None: none of our topics
    editor: str
    kind: str = "item"
    predicted: str | None = None
    model_version: str | None = None
    item_id: str | None = None
    note: str | None = None
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredCorrection(Correction):
    id: int = 0
    created_at: datetime | None = None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "editor": self.editor,
            "text": self.text,
            "topic": self.topic,
            "kind": self.kind,
            "predicted": self.predicted,
            "model_version": self.model_version,
            "item_id": self.item_id,
            "note": self.note,
            "also": list(self.also),
        }

    def to_record(self) -> Record:
        """The correction as a corpus record (never a hard case: nobody wrote it as one)."""
        return Record(f"feedback-{self.id}", self.text, self.topic, self.also, self.kind, False, f"feedback:{self.id}")


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) not in ("", ":memory:"):
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record):
            # The driver would begin transactions only before INSERT/UPDATE/DELETE, leaving the
            # schema's CREATE and ALTER steps outside them; SQLAlchemy begins them instead (below).
            connection.isolation_level = None
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged correction survives power loss
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):
            # Take the write lock at the start: two processes opening a new store migrate one after
            # the other instead of both finding it empty (PostgreSQL takes an advisory lock).
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return create_engine(url, pool_pre_ping=True)
    if url.startswith("postgresql+psycopg://"):
        return create_engine(url, pool_pre_ping=True)
    raise FeedbackError(f"unsupported database URL {url.split(':', 1)[0]}://…; use sqlite:/// or postgresql://")


def _migration_1(connection) -> None:
    corrections.create(connection, checkfirst=True)
    for index in corrections.indexes:
        index.create(connection, checkfirst=True)


def _migration_2(connection) -> None:
    """Topic may be null ("none of ours") and a correction lists other acceptable topics."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE corrections ALTER COLUMN topic DROP NOT NULL"))
        connection.execute(text("ALTER TABLE corrections ADD COLUMN IF NOT EXISTS also TEXT"))
        return
    # SQLite cannot drop NOT NULL in place: rebuild the table and copy the rows.
    connection.execute(text("ALTER TABLE corrections RENAME TO corrections_v1"))
    for index in corrections.indexes:
        connection.execute(text(f"DROP INDEX IF EXISTS {index.name}"))
    _migration_1(connection)
    columns = "id, created_at, editor, text, text_sha256, topic, kind, predicted, model_version, item_id, note"
    connection.execute(text(f"INSERT INTO corrections ({columns}) SELECT {columns} FROM corrections_v1"))
    connection.execute(text("DROP TABLE corrections_v1"))


# Version -> step. A new schema appends a step; opening a store runs the steps it lacks.
MIGRATIONS: dict[int, Callable] = {1: _migration_1, 2: _migration_2}


class FeedbackStore:
    """Corrections in SQLite or PostgreSQL."""

    def __init__(self, url: str):
        self.url = url
        self.engine = _engine(url)
        try:
            self._migrate()
        except BaseException as exc:
            self.engine.dispose()
            if isinstance(exc, SQLAlchemyError):
                reason = getattr(exc, "orig", None) or exc
                raise FeedbackError(f"cannot open the feedback store: {exc.__class__.__name__}: {reason}") from None
            raise

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _migrate(self) -> None:
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                # Workers of several replicas may start together; one migrates at a time.
                connection.execute(text("SELECT pg_advisory_xact_lock(7243150)"))
            schema_table.create(connection, checkfirst=True)
            current = connection.execute(select(schema_table.c.version).where(schema_table.c.id == 1)).scalar()
            if current is not None and current > SCHEMA_VERSION:
                raise FeedbackError(
                    f"the feedback store has schema version {current}, newer than this newstag's "
                    f"{SCHEMA_VERSION}; upgrade newstag"
                )
            for version in range(current or 0, SCHEMA_VERSION):
                MIGRATIONS[version + 1](connection)
                logger.info("feedback store migrated to schema version %d", version + 1)
            if current is None:
                connection.execute(insert(schema_table).values(id=1, version=SCHEMA_VERSION))
            elif current < SCHEMA_VERSION:
                connection.execute(schema_table.update().where(schema_table.c.id == 1).values(version=SCHEMA_VERSION))

    def schema_version(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(schema_table.c.version)).scalar_one()

    def add(self, correction: Correction) -> StoredCorrection:
        """Store a correction; returns it with its id once the transaction is committed."""
        created = datetime.now(UTC)
        values = {
            **{k: getattr(correction, k) for k in Correction.__dataclass_fields__},
            "also": "|".join(correction.also) or None,
            "created_at": created,
            "text_sha256": text_key(correction.text),
        }
        try:
            with self.engine.begin() as connection:
                new_id = connection.execute(insert(corrections).values(**values)).inserted_primary_key[0]
        except SQLAlchemyError as exc:
            raise FeedbackError(f"could not store the correction: {exc.__class__.__name__}") from None
        return StoredCorrection(
            **{k: getattr(correction, k) for k in Correction.__dataclass_fields__}, id=int(new_id), created_at=created
        )

    def list(self, since: datetime | None = None, limit: int | None = None) -> list[StoredCorrection]:
        """Corrections in the order they were made, optionally from ``since`` on."""
        query = select(corrections).order_by(corrections.c.id)
        if since is not None:
            query = query.where(corrections.c.created_at >= _as_stored(since, self.dialect))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [_from_row(row) for row in rows]

    def count(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(corrections)).scalar_one()

    def latest_records(self, since: datetime | None = None) -> list[Record]:
        """One corpus record per corrected text: the latest correction of it wins."""
        latest: dict[str, StoredCorrection] = {}
        for correction in self.list(since):
            latest[text_key(correction.text)] = correction
        return [c.to_record() for c in sorted(latest.values(), key=lambda c: c.id)]

    def close(self) -> None:
        self.engine.dispose()


def _as_stored(moment: datetime, dialect: str) -> datetime:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    # SQLite keeps naive UTC; PostgreSQL compares aware timestamps itself.
    return moment.astimezone(UTC).replace(tzinfo=None) if dialect == "sqlite" else moment


def _from_row(row) -> StoredCorrection:
    created = row["created_at"]
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    fields = {k: row[k] for k in Correction.__dataclass_fields__}
    fields["also"] = tuple(row["also"].split("|")) if row["also"] else ()
    return StoredCorrection(**fields, id=int(row["id"]), created_at=created)
