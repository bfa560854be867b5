"""The feedback store on SQLite and PostgreSQL, and the feedback API."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from service import create_app
from tests.conftest import ADMIN_TOKEN
from training.feedback import Correction, FeedbackError, FeedbackStore

EDITORS = {"wang": "tok-wang", "li": "tok-li"}


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
        return
    base = request.getfixturevalue("postgres_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def test_a_correction_is_stored_and_listed(store_url):
    store = FeedbackStore(store_url)
    stored = store.add(Correction("近日，某镇网格员调解邻里纠纷。", "grassroots", "wang", predicted="policing"))
    assert stored.id >= 1 and stored.created_at.tzinfo is not None
    [listed] = store.list()
    assert (listed.id, listed.text, listed.topic, listed.editor, listed.predicted) == (
        stored.id,
        "近日，某镇网格员调解邻里纠纷。",
        "grassroots",
        "wang",
        "policing",
    )
    assert store.schema_version() == 2
    store.close()


def test_none_of_ours_and_other_acceptable_topics_are_kept_and_exported(store_url):
    store = FeedbackStore(store_url)
    store.add(Correction("县中学举行秋季运动会，千余名学生参加。", None, "wang", predicted="party"))
    store.add(Correction("法官到村里调解宅基地纠纷。", "court", "li", also=("grassroots",)))
    [none, court] = store.latest_records()
    assert (none.topic, none.also) == (None, ())
    assert (court.topic, court.also) == ("court", ("grassroots",))
    assert [c.to_dict()["also"] for c in store.list()] == [[], ["grassroots"]]
    store.close()


def test_a_version_1_store_migrates_keeping_its_corrections(store_url):
    """Stores made before corrections could say "none of ours" had topic NOT NULL and no 'also'."""
    url = store_url.replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url)
    postgres = url.startswith("postgresql")
    key = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY"
    moment = "TIMESTAMP WITH TIME ZONE" if postgres else "TIMESTAMP"
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE newstag_schema (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)"))
        connection.execute(text("INSERT INTO newstag_schema VALUES (1, 1)"))
        connection.execute(
            text(
                f"CREATE TABLE corrections (id {key}, created_at {moment} NOT NULL, editor VARCHAR(100)"
                " NOT NULL, text TEXT NOT NULL, text_sha256 VARCHAR(64) NOT NULL, topic VARCHAR(40) NOT NULL,"
                " kind VARCHAR(20) NOT NULL, predicted VARCHAR(40), model_version VARCHAR(64), item_id VARCHAR(200),"
                " note TEXT)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO corrections (created_at, editor, text, text_sha256, topic, kind)"
                " VALUES ('2026-11-01 08:00:00+00:00', 'wang', '旧的更正。', 'x', 'fire', 'item')"
            )
        )
    engine.dispose()
    store = FeedbackStore(store_url)
    assert store.schema_version() == 2
    [old] = store.list()
    assert (old.id, old.text, old.topic, old.also) == (1, "旧的更正。", "fire", ())
    new = store.add(Correction("一条不属于任何主题的文本。", None, "li"))
    assert new.id == 2 and store.list()[1].topic is None
    store.close()


def test_since_and_limit(store_url):
    store = FeedbackStore(store_url)
    for n in range(5):
        store.add(Correction(f"第{n}条更正的文本。", "court", "li"))
    assert len(store.list(limit=3)) == 3
    assert len(store.list(since=datetime.now(UTC) - timedelta(minutes=5))) == 5
    assert store.list(since=datetime.now(UTC) + timedelta(minutes=5)) == []
    store.close()


def test_the_latest_correction_of_a_text_wins_after_normalisation(store_url):
    store = FeedbackStore(store_url)
    store.add(Correction("交警查处酒驾，共查获３起。", "policing", "wang"))
    store.add(Correction("交警查处酒驾,共查获3起。 ", "traffic", "li"))
    store.add(Correction("另一条文本。", "court", "li"))
    records = store.latest_records()
    assert [(r.topic, r.text) for r in records] == [("traffic", "交警查处酒驾,共查获3起。 "), ("court", "另一条文本。")]
    assert all(r.id.startswith("feedback-") and not r.hard and r.also == () for r in records)
    store.close()


def test_reopening_keeps_the_data_and_a_newer_schema_is_refused(store_url):
    first = FeedbackStore(store_url)
    first.add(Correction("文本一。", "fire", "wang"))
    first.close()
    store = FeedbackStore(store_url)
    assert store.count() == 1
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE newstag_schema SET version = 99"))
    store.close()
    with pytest.raises(FeedbackError, match="schema version 99"):
        FeedbackStore(store_url)


def test_concurrent_writers_lose_nothing(store_url):
    stores = [FeedbackStore(store_url) for _ in range(4)]

    def write(n):
        return stores[n % 4].add(Correction(f"并发写入的第{n}条更正。", "justice", "wang")).id

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(write, range(200)))
    assert len(set(ids)) == 200
    assert stores[0].count() == 200
    for store in stores:
        store.close()


def test_an_unusable_url_is_a_clear_error():
    with pytest.raises(FeedbackError, match="unsupported database URL mysql"):
        FeedbackStore("mysql://localhost/x")


# -- API ---------------------------------------------------------------------------------


@pytest.fixture
def feedback_client(model_root, tmp_path):
    app = create_app(
        {
            "MODEL_ROOT": str(model_root),
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "EDITOR_TOKENS": EDITORS,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fb.sqlite3'}",
        }
    )
    return app.test_client()


def send(client, body, token="tok-wang"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        "/v1/feedback", data=json.dumps(body, ensure_ascii=False), content_type="application/json", headers=headers
    )


def test_an_editor_correction_is_stored_with_the_editors_name(feedback_client):
    response = send(
        feedback_client,
        {
            "text": "村里的调解室化解纠纷。",
            "topic": "grassroots",
            "predicted": "justice",
            "model_version": "v1",
            "item_id": "item-2",
            "note": "村调解",
        },
        token="tok-li",
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["editor"] == "li" and body["id"] >= 1 and body["topic"] == "grassroots"
    listed = feedback_client.get("/v1/feedback", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).get_json()
    [entry] = listed["corrections"]
    assert (entry["editor"], entry["item_id"], entry["predicted"], entry["note"]) == (
        "li",
        "item-2",
        "justice",
        "村调解",
    )


@pytest.mark.parametrize(
    "body, token, status, code",
    [
        ({"text": "文本。", "topic": "fire"}, None, 401, "unauthorized"),
        ({"text": "文本。", "topic": "fire"}, "wrong", 401, "unauthorized"),
        ({"text": "文本。", "topic": "weather"}, "tok-wang", 422, "unknown_topic"),
        ({"text": "   ", "topic": "fire"}, "tok-wang", 422, "empty_text"),
        ({"text": "长" * 20001, "topic": "fire"}, "tok-wang", 413, "text_too_long"),
        ({"topic": "fire"}, "tok-wang", 422, "missing_field"),
        ({"text": "文本。", "topic": "fire", "kind": "essay"}, "tok-wang", 422, "invalid_kind"),
        ({"text": "文本。", "topic": 3}, "tok-wang", 400, "invalid_type"),
        ({"text": "文本。", "topic": "fire", "mood": "x"}, "tok-wang", 422, "unknown_field"),
        ({"text": "文本。", "topic": None, "also": ["fire"]}, "tok-wang", 422, "invalid_also"),
        ({"text": "文本。", "topic": "fire", "also": ["weather"]}, "tok-wang", 422, "unknown_topic"),
    ],
)
def test_bad_corrections_are_refused(feedback_client, body, token, status, code):
    response = send(feedback_client, body, token=token)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_an_editor_can_say_none_of_ours_and_list_other_acceptable_topics(feedback_client):
    none = send(feedback_client, {"text": "社区举办重阳节敬老宴。", "topic": None, "predicted": "grassroots"})
    assert none.status_code == 201 and none.get_json()["topic"] is None
    also = send(feedback_client, {"text": "法庭法官下村调解。", "topic": "court", "also": ["grassroots"]})
    assert also.status_code == 201
    listed = feedback_client.get("/v1/feedback", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).get_json()
    assert [(c["topic"], c["also"]) for c in listed["corrections"]] == [(None, []), ("court", ["grassroots"])]


def test_listing_needs_the_admin_token_and_valid_parameters(feedback_client):
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert feedback_client.get("/v1/feedback").status_code == 401
    assert feedback_client.get("/v1/feedback", headers={"Authorization": "Bearer tok-wang"}).status_code == 401
    assert feedback_client.get("/v1/feedback?since=yesterday", headers=admin).status_code == 400
    assert feedback_client.get("/v1/feedback?limit=0", headers=admin).status_code == 400
    for n in range(3):
        send(feedback_client, {"text": f"第{n}条。", "topic": "court"})
    assert len(feedback_client.get("/v1/feedback?limit=2", headers=admin).get_json()["corrections"]) == 2
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert feedback_client.get(f"/v1/feedback?since={future}", headers=admin).get_json() == {"corrections": []}


def test_feedback_is_hidden_when_no_editors_are_configured(client):
    assert send(client, {"text": "文本。", "topic": "fire"}).status_code == 404
    assert client.get("/v1/feedback", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 404


@pytest.mark.slow
def test_parallel_clients_through_two_workers_lose_no_correction(tmp_path, model_root):
    import shutil

    import requests

    from tests.servers import ServerProcess

    root = tmp_path / "models"
    shutil.copytree(model_root, root)
    database = tmp_path / "shared.sqlite3"
    env = {"NEWSTAG_EDITOR_TOKENS": "wang:tok-wang", "NEWSTAG_DATABASE_URL": f"sqlite:///{database}"}
    with ServerProcess(root, workers=2, env=env) as server:

        def post(n):
            response = requests.post(
                f"{server.url}/v1/feedback",
                json={"text": f"并发第{n}条。", "topic": "fire"},
                headers={"Authorization": "Bearer tok-wang", "Connection": "close"},
                timeout=30,
            )
            return response.status_code, response.json().get("id")

        with ThreadPoolExecutor(16) as pool:
            outcomes = list(pool.map(post, range(300)))
    assert all(status == 201 for status, _ in outcomes)
    assert len({i for _, i in outcomes}) == 300
    store = FeedbackStore(f"sqlite:///{database}")
    assert store.count() == 300
    store.close()
