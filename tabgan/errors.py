"""The exceptions tabgan raises.

Every error tabgan raises on purpose derives from :class:`TabganError`, so a
caller can catch the whole family with one ``except``. The subclasses also
derive from the matching built-in exception, so code written against plain
Python (``except ValueError``) keeps working.
"""

from __future__ import annotations

__all__ = [
    "TabganError",
    "NotFittedError",
    "InvalidDataError",
    "InvalidParameterError",
    "ConditionError",
    "TrainingError",
    "ModelFileError",
    "PrivacyError",
]


class TabganError(Exception):
    """Base class of every error raised by tabgan."""


class NotFittedError(TabganError, AttributeError):
    """An estimator was used before ``fit`` was called."""


class InvalidDataError(TabganError, ValueError):
    """The input table cannot be used as it is (what is wrong is in the message)."""


class InvalidParameterError(TabganError, ValueError):
    """A constructor or method parameter has an invalid value."""


class ConditionError(TabganError, ValueError):
    """Conditions passed to ``sample`` name unknown columns or values, or cannot be met."""


class TrainingError(TabganError, RuntimeError):
    """Training diverged (a loss became NaN or infinite)."""


class ModelFileError(TabganError, ValueError):
    """A saved model file is corrupt, not a tabgan file, or from an incompatible version."""


class PrivacyError(TabganError, ValueError):
    """A differential-privacy request cannot be honoured as stated."""
