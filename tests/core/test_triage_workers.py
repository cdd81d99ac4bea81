"""Triage workers: several processes share one backlog of stored mentions and judge each exactly once."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from review_watch.config import load_config
from review_watch.domain.mentions import MentionItem
from review_watch.entrypoints.bootstrap import App
from review_watch.services.ingest import store_mention
from review_watch.storage.orm import Case, OutboxMessage, SentimentResult
from tests.conftest import REPO
from tests.support.cli import review_watch
from tests.support.configs import source_block, write_config

# A worker as `review-watch triage` runs it, with the suite's keyword classifier in place of the model: it
# writes each text it judges to a file of its own, and takes a moment per batch, as a model does.
WORKER = """
import sys, time
from pathlib import Path
from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.entrypoints.triage_worker import triage_backlog
from tests.support.fakes import KeywordClassifier

config, judged, go = sys.argv[1:4]

class Recording(KeywordClassifier):
    def judge(self, items):
        time.sleep(0.05)
        with open(judged, "a", encoding="utf-8") as out:
            out.writelines(item.text + "\\n" for item in items)
        return super().judge(items)

app = App(load_config(Path(config)))
app.sessions
print("ready", flush=True)
while not Path(go).exists():
    time.sleep(0.01)
figures = triage_backlog(app, Recording, batch_size=16)
print(figures.classified, figures.cases_opened, flush=True)
"""


def store_backlog(app: App, count: int) -> list[str]:
    """`count` stored, unjudged reviews of one source; every fifth is a complaint. Returns their texts."""
    texts = []
    with app.unit_of_work() as uow:
        for number in range(count):
            text = f"Review {number}: " + ("terrible, never again" if number % 5 == 0 else "all good")
            store_mention(uow, MentionItem(
                source="acme-trustpilot", source_type="trustpilot", external_id=f"r{number}", url=None,
                author=f"author {number}", published_at=datetime(2026, 11, 20, tzinfo=UTC), rating=None,
                rating_max=None, title=None, text=text, language="en", brand="Acme"), "Acme", app.clock)
            texts.append(text)
    return texts


def test_two_workers_judge_a_backlog_of_500_each_exactly_once(database_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, database_url=database_url,
                          sources=source_block("acme-trustpilot", "trustpilot", "http://127.0.0.1:9/acme"))
    app = App(load_config(config))
    texts = store_backlog(app, 500)
    go = tmp_path / "go"
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(config), str(tmp_path / f"judged-{n}"), str(go)],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in (1, 2)]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready", worker.stderr
    go.touch()  # both start on the backlog at once
    results = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], [err[-2000:] for _, err in results]

    files = [tmp_path / f"judged-{n}" for n in (1, 2)]
    judged = [f.read_text(encoding="utf-8").splitlines() if f.exists() else [] for f in files]
    times_judged = Counter(judged[0] + judged[1])
    assert sorted(times_judged) == sorted(texts)
    assert set(times_judged.values()) == {1}, [t for t, n in times_judged.items() if n > 1][:5]
    if database_url.startswith("postgresql"):  # on SQLite one triage runs at a time, under the file lock
        assert judged[0] and judged[1], "each worker should have taken part of the backlog"
    reported = [tuple(int(n) for n in out.split()) for out, _ in results]
    assert sum(classified for classified, _ in reported) == 500
    assert sum(opened for _, opened in reported) == 100

    with app.unit_of_work() as uow:
        session = uow.session
        assert session.query(SentimentResult).count() == 500
        assert session.query(Case).count() == 100
        alerts = [m.dedupe_key for m in session.query(OutboxMessage).filter_by(kind="alert")]
    assert len(alerts) == len(set(alerts)) == 100
    app.engine.dispose()



def test_review_watch_triage_judges_what_is_stored(tmp_path: Path) -> None:
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}",
                          sources=source_block("acme-trustpilot", "trustpilot", "http://127.0.0.1:9/acme"))
    app = App(load_config(config))
    store_backlog(app, 10)
    first = review_watch("triage", config=config)
    assert "10 classified" in first.stdout, first.stdout
    again = review_watch("triage", config=config)
    assert "0 classified" in again.stdout and "0 cases opened" in again.stdout, again.stdout
