"""The model's inputs and outputs are core types (review_watch.domain.judgement); here for the sentiment
package's own modules, with the error a model that cannot load raises."""

from __future__ import annotations

from review_watch.domain.judgement import PRECISIONS, Classifier, Judgement, Precision, TextToJudge

__all__ = ["PRECISIONS", "Classifier", "Judgement", "ModelLoadError", "Precision", "TextToJudge"]


class ModelLoadError(Exception):
    """The sentiment model could not be loaded; the message is one line for the user."""
