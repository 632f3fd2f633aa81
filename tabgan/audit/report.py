"""The audit report: verdict, JSON and self-contained HTML."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..reporting import figure, image, json_text, page, save, table
from .attribute import AttributeInferenceResult
from .distance import DistanceResult
from .membership import MembershipResult
from .rare import RareValueResult

__all__ = ["AUDITS", "AuditReport", "AuditSummary", "RISK_LEVELS", "summarize"]

RISK_LEVELS: tuple[str, ...] = ("low", "medium", "high")
#: The audits of a report, in the order they are shown.
AUDITS: tuple[str, ...] = ("dcr", "mia", "attribute_inference", "rare_values")

CAVEATS: tuple[str, ...] = (
    "These numbers measure specific attacks; a low risk means these attacks failed, "
    "not that no attack can succeed. Only differential privacy gives a guarantee, and "
    "the canary audit (tabgan.audit.canary_audit) checks that guarantee empirically.",
    "The holdout must be real rows from the same population that were never used for "
    "training; otherwise the comparisons are biased.",
    "Intervals reflect sampling noise of the audit itself; with small tables they are wide.",
    "Attribute inference assumes the attacker knows the quasi-identifiers exactly; the "
    "defaults assume the worst case (every other column known).",
)


@dataclass(frozen=True)
class AuditSummary:
    """The one-screen verdict.

    ``risk_levels`` maps ``"dcr"``, ``"mia"``, ``"attribute_inference"`` and
    ``"overall"`` to ``"low"``, ``"medium"`` or ``"high"``; ``reasons`` says
    why each level was given.
    """

    verdict: str
    risk_levels: dict[str, str]
    reasons: dict[str, str]
    caveats: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "risk_levels": dict(self.risk_levels),
            "reasons": dict(self.reasons),
            "caveats": list(self.caveats),
        }

    def __str__(self) -> str:
        lines = [self.verdict, ""]
        for k in AUDITS:
            lines.append(f"  {k:<20} {self.risk_levels[k].upper():<7} {self.reasons[k]}")
        lines += ["", "Caveats:"] + [f"  - {c}" for c in self.caveats]
        return "\n".join(lines)


def _level(value: float, *, high: float, medium: float) -> str:
    """``"high"`` above ``high``, ``"medium"`` above ``medium``, else ``"low"``."""
    return "high" if value > high else "medium" if value > medium else "low"


def _max_level(*levels: str) -> str:
    return max(levels, key=RISK_LEVELS.index)


def summarize(
    dcr: DistanceResult, mia: MembershipResult, attr: AttributeInferenceResult,
    rare: RareValueResult | None = None,
) -> AuditSummary:
    """Risk levels from the four audits (thresholds documented in docs/audits.md)."""
    levels: dict[str, str] = {}
    reasons: dict[str, str] = {}

    # -- copies / closeness
    excess_copies = dcr.exact_copy_rate - dcr.holdout_exact_copy_rate
    share_lo = dcr.share_closer_to_train_ci[0]
    if excess_copies > 0.01 or share_lo > 0.6:
        levels["dcr"] = "high"
    elif excess_copies > 0.001 or share_lo > 0.5:
        levels["dcr"] = "medium"
    else:
        levels["dcr"] = "low"
    reasons["dcr"] = (
        f"{dcr.exact_copy_rate:.1%} of synthetic rows copy a training row "
        f"(real unseen rows: {dcr.holdout_exact_copy_rate:.1%}); "
        f"{dcr.share_closer_to_train:.1%} are closer to training than to unseen rows "
        f"(50% expected)."
    )

    # -- membership inference
    worst = max(mia.attacks.values(), key=lambda a: a.auc_ci[0])
    tpr_lo = max(a.tpr_at_fpr_ci[0.01][0] for a in mia.attacks.values())
    if worst.auc_ci[0] > 0.6 or tpr_lo > 0.05:
        levels["mia"] = "high"
    elif worst.auc_ci[0] > 0.5 or tpr_lo > 0.01:
        levels["mia"] = "medium"
    else:
        levels["mia"] = "low"
    reasons["mia"] = (
        f"best attack '{worst.name}' AUC {worst.auc:.3f} "
        f"[{worst.auc_ci[0]:.3f}, {worst.auc_ci[1]:.3f}] (0.5 = guessing); "
        f"TPR at 1% FPR {worst.tpr_at_fpr[0.01]:.1%}."
    )

    # -- attribute inference
    w = attr.worst
    if w is None:
        levels["attribute_inference"] = "low"
        reasons["attribute_inference"] = "not run (no column to infer from)."
    else:
        levels["attribute_inference"] = _level(w.residual_risk_ci[0], high=0.2, medium=0.05)
        reasons["attribute_inference"] = (
            f"worst secret '{w.sensitive}': residual risk {w.residual_risk:.3f} "
            f"[{w.residual_risk_ci[0]:.3f}, {w.residual_risk_ci[1]:.3f}] "
            f"(attack {w.attack_rate:.1%} vs control {w.control_rate:.1%})."
        )

    # -- rare values copied verbatim
    if rare is None:
        levels["rare_values"], reasons["rare_values"] = "low", "not run."
    else:
        levels["rare_values"] = _level(rare.excess_share_low, high=0.01, medium=0.001)
        reasons["rare_values"] = (
            f"{rare.synthetic_share:.2%} of synthetic rows hold a value that fewer than "
            f"{rare.k} training rows hold ({rare.copied_values} such value(s) copied; real "
            f"unseen rows: {rare.holdout_share:.2%})."
        )

    overall = _max_level(*(levels[k] for k in AUDITS))
    levels["overall"] = overall
    if overall == "high":
        verdict = (
            "HIGH RISK: the synthetic table exposes people in the training data. "
            "Do not release it as is."
        )
    elif overall == "medium":
        verdict = (
            "MEDIUM RISK: the attacks detect some leakage about the training rows. "
            "Review the details, and consider training with differential privacy "
            "(a smaller epsilon) before release."
        )
    else:
        verdict = (
            "LOW RISK: none of the attacks could tell training rows from unseen real rows "
            "better than chance. This is evidence, not proof, of privacy."
        )
    flagged = [k for k in AUDITS if levels[k] != "low"]
    if flagged:
        verdict += " Flagged by: " + ", ".join(flagged) + "."
    smallest = min(dcr.n_train, dcr.n_holdout, dcr.n_synthetic, 2 * mia.n_members)
    if smallest < 100:
        verdict += (
            " Caution: some table has fewer than 100 rows, so these levels rest on very "
            "few rows and are unreliable."
        )
    return AuditSummary(verdict=verdict, risk_levels=levels, reasons=reasons, caveats=CAVEATS)


@dataclass(frozen=True)
class AuditReport:
    """Result of :func:`tabgan.audit.audit`.

    Attributes
    ----------
    dcr:
        Distance-to-closest-record audit.
    mia:
        Membership-inference attacks.
    attribute_inference:
        Attribute-inference attacks.
    rare_values:
        Rare training values copied verbatim (:func:`tabgan.audit.rare_value_copies`).
    summary:
        The verdict and risk levels.
    settings:
        The parameters the audit ran with.
    """

    dcr: DistanceResult
    mia: MembershipResult
    attribute_inference: AttributeInferenceResult
    summary: AuditSummary
    settings: dict[str, Any]
    rare_values: RareValueResult | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data: keys ``dcr``, ``mia``, ``attribute_inference``, ``rare_values``,
        ``summary``, ``settings``."""
        return {
            "dcr": self.dcr.to_dict(),
            "mia": self.mia.to_dict(),
            "attribute_inference": self.attribute_inference.to_dict(),
            "rare_values": None if self.rare_values is None else self.rare_values.to_dict(),
            "summary": self.summary.to_dict(),
            "settings": dict(self.settings),
        }

    def to_json(self, path: str | None = None, *, indent: int = 2) -> str:
        """JSON text of :meth:`to_dict` (NaN and infinities become null); written to ``path`` if given."""
        return save(json_text(self.to_dict(), indent=indent), path)

    def to_html(self, path: str | None = None) -> str:
        """A self-contained HTML page (plots embedded as PNG); written to ``path`` if given."""
        return save(_render_html(self), path)

    def __str__(self) -> str:
        return str(self.summary)


# ------------------------------------------------------------------------ HTML
_DPI = 100


def _dcr_plot(dcr: DistanceResult) -> Any:
    fig = figure(6.4, 3.6, dpi=_DPI)
    ax = fig.add_subplot(1, 1, 1)
    both = np.r_[dcr.dcr_synthetic, dcr.dcr_holdout]
    hi = float(np.quantile(both, 0.99)) if both.size else 1.0
    bins = np.linspace(0.0, max(hi, 1e-6), 40)
    ax.hist(
        np.clip(dcr.dcr_holdout, 0, hi),
        bins=bins,
        alpha=0.55,
        density=True,
        label="holdout → train (unseen real rows)",
    )
    ax.hist(
        np.clip(dcr.dcr_synthetic, 0, hi),
        bins=bins,
        alpha=0.55,
        density=True,
        label="synthetic → train",
    )
    ax.set_xlabel("distance to closest training row")
    ax.set_ylabel("density")
    ax.set_title("Distance to closest record")
    ax.legend(fontsize=8)
    return fig


def _roc_plot(mia: MembershipResult) -> Any:
    fig = figure(4.6, 4.2, dpi=_DPI)
    ax = fig.add_subplot(1, 1, 1)
    for name, attack in mia.attacks.items():
        fpr, tpr = attack.roc_curve()
        ax.plot(fpr, tpr, label=f"{name} (AUC {attack.auc:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="guessing")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title("Membership inference ROC")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def _roc_log_plot(mia: MembershipResult) -> Any:
    fig = figure(4.6, 4.2, dpi=_DPI)
    ax = fig.add_subplot(1, 1, 1)
    floor = 0.5 / max(mia.n_non_members, mia.n_members, 1)
    for name, attack in mia.attacks.items():
        fpr, tpr = attack.roc_curve()
        ax.plot(np.maximum(fpr, floor), np.maximum(tpr, floor), label=name)
    grid = np.logspace(np.log10(floor), 0, 50)
    ax.plot(grid, grid, color="grey", linestyle=":", label="guessing")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("false-positive rate (log)")
    ax.set_ylabel("true-positive rate (log)")
    ax.set_title("ROC, low false-positive region")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def _fmt(x: Any) -> str:
    if isinstance(x, (float, np.floating)):
        return "n/a" if not math.isfinite(float(x)) else f"{float(x):.4g}"
    return html.escape(str(x))


def _ci(ci: tuple[float, float]) -> str:
    return f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"


def _render_html(rep: AuditReport) -> str:
    s = rep.summary
    lv = s.risk_levels
    parts = [
        "<h1>Privacy audit of a synthetic table</h1>",
        f"<div class='verdict {lv['overall']}'>{html.escape(s.verdict)}</div>",
        table(
            ["audit", "risk", "why"],
            [
                [k, f"<span class='lvl-{lv[k]}'>{lv[k].upper()}</span>", html.escape(s.reasons[k])]
                for k in AUDITS
            ],
            text_columns=("risk", "why"),
        ),
        "<h3>Caveats</h3><ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in s.caveats) + "</ul>",
    ]

    d = rep.dcr
    parts += [
        "<h2>1. Distance to closest record</h2>",
        "<p>Distance of each synthetic row, and of each real row never used for training, to "
        "its closest training row (Gower-like mixed-type distance in [0, 1]). Synthetic rows "
        "much closer to training rows than unseen real rows suggest copying.</p>",
        table(
            ["statistic", "synthetic → train", "holdout → train (baseline)"],
            [
                ["median distance", _fmt(d.median_synthetic), _fmt(d.median_holdout)],
                ["5th percentile", _fmt(d.p5_synthetic), _fmt(d.p5_holdout)],
                [
                    "exact copies of a training row",
                    f"{d.exact_copy_rate:.2%}",
                    f"{d.holdout_exact_copy_rate:.2%}",
                ],
                [
                    "median NN distance ratio",
                    _fmt(d.median_nndr_synthetic),
                    _fmt(d.median_nndr_holdout),
                ],
                [
                    "5th percentile NN distance ratio",
                    _fmt(d.p5_nndr_synthetic),
                    _fmt(d.p5_nndr_holdout),
                ],
            ],
        ),
        f"<p>Share of synthetic rows closer to training than to unseen rows (equal-size subsets "
        f"of {d.n_subset} rows; 0.5 = no overfitting): <b>{_fmt(d.share_closer_to_train)}</b> "
        f"{_ci(d.share_closer_to_train_ci)}.</p>",
        image(_dcr_plot(d), "DCR histogram"),
    ]

    m = rep.mia
    rows = []
    for name, a in m.attacks.items():
        rows.append(
            [
                html.escape(name),
                f"{_fmt(a.auc)} {_ci(a.auc_ci)}",
                f"{_fmt(a.tpr_at_fpr[0.01])} {_ci(a.tpr_at_fpr_ci[0.01])}",
                f"{_fmt(a.tpr_at_fpr[0.001])} {_ci(a.tpr_at_fpr_ci[0.001])}",
            ]
        )
    parts += [
        "<h2>2. Membership inference</h2>",
        f"<p>Each attack scores {m.n_members} training rows (members) and {m.n_non_members} "
        f"holdout rows (non-members); {m.n_reference} other holdout rows serve as the "
        f"attacker's reference sample. AUC 0.5 and TPR equal to the FPR mean the attack is "
        f"no better than guessing. Intervals: {m.confidence:.0%} bootstrap "
        f"({m.n_bootstrap} resamples).</p>",
        table(["attack", "ROC AUC", "TPR at FPR 1%", "TPR at FPR 0.1%"], rows),
        image(_roc_plot(m), "ROC"),
        image(_roc_log_plot(m), "ROC log"),
    ]

    a = rep.attribute_inference
    arows = []
    for name, r in sorted(a.secrets.items(), key=lambda kv: -_nan_low(kv[1].residual_risk)):
        qis = ", ".join(r.quasi_identifiers)
        if len(qis) > 60:
            qis = f"{len(r.quasi_identifiers)} columns"
        arows.append(
            [
                html.escape(name),
                html.escape(qis),
                f"{r.attack_rate:.1%}",
                f"{r.control_rate:.1%}",
                f"{_fmt(r.residual_risk)} {_ci(r.residual_risk_ci)}",
            ]
        )
    parts += [
        "<h2>3. Attribute inference</h2>",
        f"<p>The attacker knows a person's quasi-identifiers and guesses the secret from the "
        f"{a.n_neighbors} closest synthetic row(s). Attack = success on people in the training "
        f"data; control = success on people who are not. Residual risk = (attack − control) / "
        f"(1 − control): 0 means the synthetic data teach nothing specific to the training "
        f"people, 1 means every secret is exposed. Numeric secrets count as guessed within "
        f"{a.numeric_tolerance:.0%} of the column's robust range.</p>",
        table(
            ["secret", "quasi-identifiers", "attack", "control", "residual risk"],
            arows,
            text_columns=("quasi-identifiers",),
        ),
    ]
    rv = rep.rare_values
    parts += [] if rv is None else [
        "<h2>4. Rare values copied verbatim</h2>",
        f"<p>Training values held by fewer than {rv.k} training rows (in discrete columns, and "
        "exact values of continuous ones) point at those rows wherever they appear. Shares of "
        "rows holding one: synthetic rows, and real rows never used for training (chance). "
        "No value is shown.</p>",
        table(
            ["column", "rare training values", "copied into the synthetic rows",
             "synthetic rows holding one", "holdout rows holding one"],
            [[html.escape(name), str(c["rare_values"]), str(c["copied_values"]),
              f"{c['synthetic_share']:.2%}", f"{c['holdout_share']:.2%}"]
             for name, c in rv.columns.items()]
            + [["any column", "", str(rv.copied_values), f"{rv.synthetic_share:.2%}",
                f"{rv.holdout_share:.2%}"]],
        ),
        "<h2>Settings</h2>",
        table(
            ["setting", "value"],
            [[html.escape(k), _fmt(v)] for k, v in _flat(rep.settings)],
            text_columns=("value",),
        ),
        "<p><small>Generated by tabgan.audit. See docs/audits.md for the methods.</small></p>",
    ]
    return page("tabgan privacy audit", parts)


def _flat(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        if isinstance(v, dict):
            out += _flat(v, f"{prefix}{k}.")
        else:
            out.append((f"{prefix}{k}", v))
    return out


def _nan_low(x: float) -> float:
    return -math.inf if math.isnan(x) else x
