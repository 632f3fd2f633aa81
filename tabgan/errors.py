"""The exceptions tabgan raises, and how it warns.

Every error tabgan raises on purpose derives from :class:`TabganError`, so a
caller can catch the whole family with one ``except``. The subclasses also
derive from the matching built-in exception, so code written against plain
Python (``except ValueError``) keeps working.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = [
    "warn_user",
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


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn, pointing at the first caller outside tabgan (the user's line), however deep
    inside tabgan the warning is raised: one rule instead of a ``stacklevel`` to keep in
    step with every change of the call chain."""
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
