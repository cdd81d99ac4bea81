"""Staff's verdicts on mentions, kept as labelled examples and written out in the model's training format."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from review_watch.storage.orm import FeedbackExample, Mention
from review_watch.storage.unit_of_work import AbstractUnitOfWork

FALSE_ALARM = "false_alarm"  # "not actionable" pressed on an alert
UNSURE_ANSWER = "unsure_answer"  # a lead's "complaint" / "not a complaint" on the "please look" list
MISSED = "missed"  # a lead's /missed URL


def not_a_complaint_label(model_label: str | None) -> str:
    """What a post staff say needs no response is labelled: "positive" where the model had read it so,
    else "neutral" (staff said it is no complaint, not that it is praise)."""
    return "positive" if model_label == "positive" else "neutral"


def record_example(uow: AbstractUnitOfWork, mention: Mention, kind: str, label: str, actor: str,
                   now: datetime) -> FeedbackExample:
    sentiment = mention.sentiment
    example = FeedbackExample(
        mention_id=mention.id, kind=kind, label=label, model_label=sentiment.label if sentiment else None,
        text=mention.text, language=(sentiment.language if sentiment and sentiment.language else mention.language),
        actor=actor, created_at=now)
    uow.repo.add(example)
    return example


def record_false_alarm(uow: AbstractUnitOfWork, mention_id: int, actor: str, now: datetime) -> None:
    """An alert marked "not actionable": the model flagged what needed no response."""
    mention = uow.repo.mention(mention_id)
    if mention is not None:
        label = not_a_complaint_label(mention.sentiment.label if mention.sentiment else None)
        record_example(uow, mention, FALSE_ALARM, label, actor, now)


def training_lines(uow: AbstractUnitOfWork, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """One line per mention in the format of sentiment/data/train.jsonl, with "source": "feedback" and the
    mention's id and url (so an evaluation can leave out what came from its own sets). Where staff spoke
    about a mention more than once, the latest verdict is the one that counts."""
    latest: dict[int, FeedbackExample] = {}
    for example in uow.repo.feedback_examples(since):
        latest.pop(example.mention_id, None)  # re-inserted: the line goes where its latest verdict is
        latest[example.mention_id] = example
    for example in latest.values():
        yield {"language": example.language, "label": example.label, "text": example.text, "source": "feedback",
               "kind": example.kind, "id": example.mention_id, "url": example.mention.url}
