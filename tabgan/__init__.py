"""tabgan: privacy-preserving synthetic copies of tables."""

from __future__ import annotations

from .errors import (
    ConditionError,
    InvalidDataError,
    InvalidParameterError,
    ModelFileError,
    NotFittedError,
    PrivacyError,
    TabganError,
    TrainingError,
)
from .metadata import ColumnMetadata, Metadata
from .persistence import load
from .synthesizer import Synthesizer

__version__ = "0.1.0"

__all__ = [
    "ColumnMetadata",
    "ConditionError",
    "InvalidDataError",
    "InvalidParameterError",
    "Metadata",
    "Synthesizer",
    "load",
    "ModelFileError",
    "NotFittedError",
    "PrivacyError",
    "TabganError",
    "TrainingError",
    "__version__",
]
