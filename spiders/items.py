"""The item every spider yields is the core's MentionItem (review_watch.domain.mentions)."""

from __future__ import annotations

from review_watch.domain.mentions import MentionItem

__all__ = ["MentionItem"]
