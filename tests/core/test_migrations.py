"""The Alembic migrations build exactly the schema the ORM maps, and upgrade a database that has data."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from review_watch.storage.database import make_engine, migrate
from review_watch.storage.orm import Base


def test_the_migrated_schema_matches_the_orm(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    engine.dispose()


def test_an_existing_database_is_upgraded_with_its_rows_kept(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine, revision="0001")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO sources (name, type, url, empty_runs_in_a_row, broken_alert_sent) "
                                "VALUES ('acme-tp', 'trustpilot', 'https://example.com', 0, false)"))
    migrate(engine)
    assert "last_run_complete" in {c["name"] for c in inspect(engine).get_columns("sources")}
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, last_run_complete FROM sources")).all()
    assert [(name, bool(complete)) for name, complete in rows] == [("acme-tp", False)]
    engine.dispose()


def test_judgements_stored_before_unsure_existed_read_as_sure(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine, revision="0002")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO sources (name, type, url, empty_runs_in_a_row, broken_alert_sent, "
                                "last_run_complete) VALUES ('acme-tp', 'trustpilot', 'https://example.com', 0, "
                                "false, false)"))
        connection.execute(text("INSERT INTO mentions (source_id, external_id, text, content_hash, raw, arrived_at, "
                                "edit_count) VALUES (1, 'r1', 'Awful.', 'h', '{}', '2026-11-23 08:00:00+00', 0)"))
        connection.execute(text("INSERT INTO sentiment_results (mention_id, label, score, negative, churn_intent, "
                                "threat, staff_abuse, model, classified_at) VALUES (1, 'negative', 0.9, true, "
                                "false, false, false, 'builtin', '2026-11-23 08:00:00+00')"))
    migrate(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT label, unsure FROM sentiment_results")).all()
        feedback = connection.execute(text("SELECT count(*) FROM feedback_examples")).scalar_one()
    assert [(label, bool(unsure)) for label, unsure in rows] == [("negative", False)]
    assert feedback == 0
    engine.dispose()
