"""tabgan: privacy-preserving synthetic copies of tables."""

from __future__ import annotations

from .audit import AuditReport, CanaryAuditResult, audit, canary_audit
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
from .evaluation import EvaluationReport, evaluate
from .metadata import ColumnMetadata, Metadata
from .privacy import PrivacyLedger
from .synthesizer import Synthesizer, load

__version__ = "0.1.0"

__all__ = [
    "AuditReport",
    "CanaryAuditResult",
    "EvaluationReport",
    "audit",
    "canary_audit",
    "evaluate",
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
    "PrivacyLedger",
    "TabganError",
    "TrainingError",
    "__version__",
]
