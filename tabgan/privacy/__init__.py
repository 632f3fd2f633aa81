"""Differential privacy for tabgan: ``Synthesizer(epsilon=...)``.

The user meets this through :class:`tabgan.Synthesizer` (``epsilon``,
``delta``, ``max_grad_norm``, ``preprocessing_share``, ``accountant``) and
reads the result in ``synth.epsilon_`` and ``synth.privacy_ledger_``. The
machinery lives in the neighbouring modules:

* :mod:`~tabgan.privacy.accountant` — budget split, Gaussian calibration, Opacus accountants;
* :mod:`~tabgan.privacy.preprocessing` — private column kinds, ranges, categories, histograms;
* :mod:`~tabgan.privacy.dp_training` — the DP-SGD critic step (per-row clipping, penalty included);
* :mod:`~tabgan.privacy.ledger` — the record of every use of the real data.

The argument that the whole fit is differentially private is in ``docs/privacy.md``.
"""

from __future__ import annotations

from .accountant import default_delta
from .ledger import LedgerEntry, PrivacyLedger

__all__ = ["LedgerEntry", "PrivacyLedger", "default_delta"]
