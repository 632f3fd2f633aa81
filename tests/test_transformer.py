from __future__ import annotations

import re
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tabgan import InvalidDataError, Metadata, NotFittedError
from tabgan.transformer import DataTransformer

from .conftest import make_mixed


def rng(seed=0):
    return np.random.default_rng(seed)


def roundtrip(df, **kw):
    """Fit, encode, decode; every value kept (``min_category_rows=1``) unless ``kw`` says
    otherwise, so that the round trip is exact on tiny tables."""
    tr = DataTransformer(**{"min_category_rows": 1, **kw}).fit(df, rng=rng())
    enc = tr.transform(df, rng=rng(1))
    return tr, enc, tr.inverse_transform(enc, rng=rng(2))


@settings(max_examples=30, deadline=None)
@given(
    floats=st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=5, max_size=60),
    data=st.data(),
)
def test_inverse_transform_of_transform_is_identity(floats, data):
    n = len(floats)
    ints = data.draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n))
    cats = data.draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n))
    nan_mask = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    x = np.array(floats)
    x[np.array(nan_mask)] = np.nan
    df = pd.DataFrame({"x": x, "i": np.array(ints, dtype=np.int64), "c": pd.Series(cats, dtype=object)})
    with np.errstate(all="ignore"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, enc, back = roundtrip(df)
    # the only warnings are the designed ones, one per degenerate column, and no others
    assert sorted(_warned_columns(caught)) == sorted(_degenerate_columns(df))
    assert enc.dtype == np.float32
    assert (back["i"] == df["i"]).all()
    assert back["i"].dtype == df["i"].dtype
    assert back["x"].isna().equals(df["x"].isna())
    finite = df["x"].notna()
    if finite.any():
        span = np.nanmax(df["x"]) - np.nanmin(df["x"])
        tol = 1e-5 * max(span, np.abs(df["x"][finite]).max(), 1.0)
        np.testing.assert_allclose(back["x"][finite], df["x"][finite], atol=tol, rtol=0)
    assert back["c"].isna().equals(df["c"].isna())  # missing stays missing (None or NaN)
    present = df["c"].notna()
    assert (back["c"][present] == df["c"][present]).all()


_DEGENERATE = re.compile(r"Column '(\w+)' (?:is constant|is entirely missing|has a single value);")


def _warned_columns(caught) -> list[str]:
    names = []
    for w in caught:
        match = _DEGENERATE.match(str(w.message))
        assert match and w.category is UserWarning, f"unexpected warning: {w.message!r}"
        names.append(match.group(1))
    return names


def _degenerate_columns(df: pd.DataFrame) -> list[str]:
    """Columns the transformer must warn about: numeric ones with at most one distinct
    present value (constant or entirely missing), discrete ones with a single category
    (missing counts as one)."""
    out = [c for c in ("x", "i") if df[c].nunique(dropna=True) <= 1]
    if df["c"].nunique(dropna=True) + int(df["c"].isna().any()) == 1:
        out.append("c")
    return out


def test_layout_spans_cover_the_encoding():
    df = make_mixed()
    tr = DataTransformer().fit(df, rng=rng())
    spans = tr.layout_.spans
    assert spans[0].start == 0
    assert all(a.end == b.start for a, b in zip(spans[:-1], spans[1:]))
    assert tr.layout_.width == tr.transform(df, rng=rng()).shape[1]
    roles = {(s.column, s.role) for s in spans}
    assert ("x", "value") in roles and ("x", "mode") in roles and ("color", "category") in roles
    assert ("flag", "category") in roles
    # softmax spans are one-hot in the encoding, value spans in [-1, 1]
    enc = tr.transform(df, rng=rng())
    for s in spans:
        block = enc[:, s.start : s.end]
        if s.activation == "softmax":
            assert np.all(block.sum(1) == 1)
        else:
            assert np.all(np.abs(block) < 1)


def test_multimodal_column_gets_several_modes():
    r = rng()
    x = np.concatenate([r.normal(0, 1, 3000), r.normal(100, 1, 3000), r.normal(-50, 2, 2000)])
    tr = DataTransformer().fit(pd.DataFrame({"x": x}), rng=rng())
    means = sorted(tr.infos_[0].means)
    assert len(means) >= 3
    for target in (-50, 0, 100):
        assert min(abs(m - target) for m in means) < 3


@pytest.mark.parametrize("bound", [1000, None])
def test_mixture_is_fitted_on_at_most_max_gmm_samples_values(monkeypatch, bound):
    from tabgan import transformer

    received = []

    def spy(columns, *, max_samples, **kw):
        # values the mixture is fitted on: fit_mixtures subsamples columns longer than max_samples
        received.extend(len(c) if max_samples is None else min(len(c), max_samples) for c in columns)
        return real(columns, max_samples=max_samples, **kw)

    real = transformer.fit_mixtures
    monkeypatch.setattr(transformer, "fit_mixtures", spy)
    r = rng()
    df = pd.DataFrame({"x": r.normal(size=5000), "y": r.normal(size=5000)})
    df.loc[:99, "y"] = np.nan
    tr = DataTransformer(max_gmm_samples=bound).fit(df, rng=rng())
    assert tr.infos_[0].means and tr.infos_[1].means
    assert received == ([1000, 1000] if bound else [5000, 4900])  # None: every present value


def test_high_cardinality_bucket_keeps_values():
    r = rng()
    values = np.array([f"id{i}" for i in r.integers(0, 500, 3000)], dtype=object)
    df = pd.DataFrame({"id": values})
    tr = DataTransformer(max_categories=20, min_category_rows=1).fit(df, rng=rng())
    assert tr.layout_.width == 20
    enc = tr.transform(df, rng=rng())
    back = tr.inverse_transform(enc, rng=rng())
    assert set(back["id"]).issubset(set(values))
    frequent = pd.Series(values).value_counts().index[:19]
    kept = back["id"].isin(frequent)
    assert (back["id"][kept] == df["id"][kept]).all()


def test_declared_categories_fix_the_layout():
    df = pd.DataFrame({"c": ["a", "b", "a", "b"]})
    meta = Metadata.detect(df, {"c": {"kind": "discrete", "categories": ["a", "b", "z"]}})
    tr = DataTransformer().fit(df, meta, rng=rng())
    assert tr.infos_[0].categories == ["a", "b", "z"] and tr.infos_[0].counts == [2, 2, 0]
    bad = Metadata.detect(df, {"c": {"kind": "discrete", "categories": ["a"]}})
    with pytest.raises(InvalidDataError, match="declared categories"):
        DataTransformer().fit(df, bad, rng=rng())


def test_transform_checks():
    with pytest.raises(NotFittedError):
        DataTransformer().transform(make_mixed(), rng=rng())
    tr = DataTransformer().fit(make_mixed(), rng=rng())
    with pytest.raises(InvalidDataError, match="lacks columns"):
        tr.transform(make_mixed().drop(columns="x"), rng=rng())
    with pytest.raises(InvalidDataError, match="shape"):
        tr.inverse_transform(np.zeros((3, 2)), rng=rng())
    other = make_mixed()
    other.loc[0, "color"] = "purple"
    with pytest.raises(InvalidDataError, match="unseen"):
        tr.transform(other, rng=rng())


def _python_lines(fn) -> int:
    """How many lines of Python (any module's) run while ``fn()`` runs."""
    lines = 0

    def trace(frame, event, arg):
        nonlocal lines
        lines += event == "line"
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return lines


@pytest.mark.parametrize(
    "column",
    [
        "x",
        "c",
    ],
)
def test_transform_runs_no_python_line_per_row(column):
    """Vectorised: encoding and decoding 100k rows runs as many lines of Python as 1k rows
    (a per-row loop or ``Series.map(lambda ...)`` would add at least 99,000)."""
    r = rng()
    df = pd.DataFrame({"x": r.normal(size=100_000), "c": r.choice(list("abcdef"), 100_000)})[[column]]
    tr = DataTransformer().fit(df, rng=rng())

    def roundtrip_of(rows):
        enc = tr.transform(rows, rng=rng(1))
        assert enc.dtype == np.float32 and enc.shape[0] == len(rows)
        back = tr.inverse_transform(enc, rng=rng(2))
        if column == "c":
            assert (back["c"] == rows["c"]).all()

    few, many = _python_lines(lambda: roundtrip_of(df.iloc[:1000])), _python_lines(lambda: roundtrip_of(df))
    assert many - few < 1000, f"{many - few} more lines of Python run for 99,000 more rows"


def test_point_masses_get_exact_modes():
    r = rng()
    x = np.where(r.random(5000) < 0.9, 0.0, r.normal(5000, 1000, 5000))
    tr = DataTransformer().fit(pd.DataFrame({"gain": x}), rng=rng())
    info = tr.infos_[0]
    points = [m for m, s in zip(info.means, info.stds) if s == 0]
    assert points == [0.0]
    assert abs(info.weights[info.means.index(0.0)] - (x == 0).mean()) < 1e-9
    # any generated row whose mode is the point decodes to exactly 0, whatever its scalar
    mode_span = next(s for s in tr.layout_.spans if s.role == "mode")
    value_span = next(s for s in tr.layout_.spans if s.role == "value")
    fake = np.zeros((50, tr.layout_.width), dtype=np.float32)
    fake[:, mode_span.start + info.means.index(0.0)] = 1.0
    fake[:, value_span.start] = np.linspace(-1, 1, 50)
    assert (tr.inverse_transform(fake, rng=rng())["gain"] == 0).all()
    _, _, back = roundtrip(pd.DataFrame({"gain": x}))
    np.testing.assert_allclose(back["gain"], x, atol=1e-6 * np.abs(x).max())


def test_point_modes_can_be_switched_off():
    x = np.repeat([0.0, 1.5, 2.5], [50, 30, 20])
    tr = DataTransformer(point_share=None).fit(pd.DataFrame({"v": x}), rng=rng())
    assert all(s > 0 for s in tr.infos_[0].stds)


def test_decode_of_choices_equals_inverse_transform():
    """Sampling decodes (choices, scalars); it must read rows as inverse_transform does."""
    df = make_mixed(300)
    tr = DataTransformer().fit(df, rng=rng())
    enc = tr.transform(df, rng=rng(1))
    noisy = enc + np.random.default_rng(3).normal(0, 0.3, enc.shape).astype(np.float32)
    layout = tr.layout_
    codes = np.stack([noisy[:, s.start : s.end].argmax(1) for s in layout.softmax_spans], 1)
    values = noisy[:, [s.start for s in layout.tanh_spans]]
    pd.testing.assert_frame_equal(
        tr.decode(codes, values, rng=rng(4)), tr.inverse_transform(noisy, rng=rng(4))
    )
    out = tr.decode(codes, values, rng=rng(4))  # built without copies, but owns its columns
    before = (codes.copy(), values.copy())
    for name in out.columns:
        column = out[name].to_numpy()
        assert not np.shares_memory(column, codes) and not np.shares_memory(column, values)
    for name in out.columns:  # writing into the frame changes nothing outside it
        out.loc[:, name] = out[name].iloc[::-1].to_numpy()
    np.testing.assert_array_equal(codes, before[0])
    np.testing.assert_array_equal(values, before[1])
    pd.testing.assert_frame_equal(
        tr.decode(codes, values, rng=rng(4)), tr.inverse_transform(noisy, rng=rng(4))
    )
    with pytest.raises(InvalidDataError, match="codes of shape"):
        tr.decode(codes[:, :1], values, rng=rng())
    with pytest.raises(InvalidDataError, match="codes of shape"):
        tr.decode(codes[:5], values, rng=rng())  # row counts differ
    too_big = codes.copy()
    too_big[0, 0] = layout.softmax_spans[0].width
    for bad in (too_big, -codes - 1, codes.astype(float)):
        with pytest.raises(InvalidDataError, match="below the width"):
            tr.decode(bad, values, rng=rng())


def test_point_modes_need_enough_rows():
    """A value held by a few rows never gets a point mode (it would be copied exactly),
    whatever its share; with MIN_POINT_ROWS rows it does."""
    from tabgan.transformer import MIN_POINT_ROWS

    r = rng()
    few = np.concatenate([np.full(MIN_POINT_ROWS - 1, 7.0), r.normal(size=60)])
    enough = np.concatenate([np.full(MIN_POINT_ROWS, 7.0), r.normal(size=60)])
    def points_of(x):
        info = DataTransformer(point_share=0.05).fit(pd.DataFrame({"v": x}), rng=rng()).infos_[0]
        return [m for m, s in zip(info.means, info.stds) if s == 0]

    assert points_of(few) == [] and points_of(enough) == [7.0]


def test_point_modes_cover_many_frequent_values():
    """A column of integers with many frequent values (ages, hours) gets a point mode for
    each value holding at least point_share of the rows, up to MAX_POINTS."""
    from tabgan.transformer import MAX_POINTS

    r = rng()
    x = r.integers(0, 40, 20_000).astype(float)  # 40 values, 2.5 % each
    info = DataTransformer(point_share=0.01).fit(pd.DataFrame({"v": x}), rng=rng()).infos_[0]
    assert sorted(m for m, s in zip(info.means, info.stds) if s == 0) == list(map(float, range(40)))
    many = r.integers(0, 500, 200_000).astype(float)  # 500 values, 0.2 % each
    info = DataTransformer(point_share=0.001).fit(pd.DataFrame({"v": many}), rng=rng()).infos_[0]
    assert sum(s == 0 for s in info.stds) == MAX_POINTS


def test_a_rare_leftover_value_is_no_point():
    """When the points leave one distinct value, it becomes a point only if it has
    MIN_POINT_ROWS rows: three rows of 3.7 must not be written back exactly."""
    from tabgan.transformer import MIN_POINT_ROWS

    few = np.repeat([0.0, 10.0, 3.7], [500, 500, 3])
    info = DataTransformer().fit(pd.DataFrame({"v": few}), rng=rng()).infos_[0]
    assert sorted(m for m, s in zip(info.means, info.stds) if s == 0) == [0.0, 10.0]
    enough = np.repeat([0.0, 10.0, 3.7], [500, 500, MIN_POINT_ROWS])
    info = DataTransformer().fit(pd.DataFrame({"v": enough}), rng=rng()).infos_[0]
    assert sorted(m for m, s in zip(info.means, info.stds) if s == 0) == [0.0, 3.7, 10.0]


def test_rare_values_are_pooled_and_never_written_back():
    """Privacy by default: a value of fewer than min_category_rows rows is never generated
    (a string column gets the placeholder, another dtype a missing value); frequent
    values, declared categories and booleans keep every value."""
    from tabgan.transformer import RARE_VALUE

    r = np.random.default_rng(0)
    n = 2000
    city = r.choice(["A", "B", "C"], n).astype(object)
    city[:6] = [f"tiny-{i}" for i in range(6)]  # six values of one row each
    code = r.choice([1, 2, 3], n).astype(object)
    code[:3] = 99  # one value of three rows, in a column of numbers declared discrete
    flag = np.zeros(n, dtype=bool)
    flag[:2] = True  # two rows: a boolean's domain is public
    df = pd.DataFrame({"city": city, "code": code, "flag": flag, "label": city})
    meta = {"code": "discrete", "label": {"kind": "discrete",
                                          "categories": ["A", "B", "C"] + [f"tiny-{i}" for i in range(6)]}}
    tr = DataTransformer(derive_columns=False, joint_columns=False).fit(
        df, Metadata.detect(df, meta), rng=rng())
    back = tr.inverse_transform(tr.transform(df, rng=rng(1)), rng=rng(2))
    assert not back["city"].str.startswith("tiny").any()
    assert (back["city"][:6] == RARE_VALUE).all() and (back["city"][6:] == df["city"][6:]).all()
    assert back["code"][:3].isna().all() and (back["code"][3:] == df["code"][3:]).all()
    assert back["flag"].sum() == 2  # booleans exempt
    assert (back["label"] == df["label"]).all()  # declared categories exempt
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 0.3 % of the rows: below the warning's 1 %
        DataTransformer().fit(df[["city"]], rng=rng())
    kept = DataTransformer(min_category_rows=1).fit(df[["city"]], rng=rng())
    assert "tiny-0" in next(i for i in kept.infos_ if i.name == "city").categories
    many = pd.DataFrame({"id": [f"u{i}" for i in range(300)]})
    with pytest.warns(UserWarning, match=r"'id': 300 value\(s\) held by fewer than 10 rows"):
        DataTransformer().fit(many, rng=rng())


def test_review_cases_of_rare_values_and_dates():
    """Rare values leave a category dtype's list too; an integer column declared discrete
    with pooled values comes back as nullable Int64; one stray value anywhere keeps a
    column of date strings categorical; pac is checked against the default batch."""
    from tabgan import InvalidParameterError, Synthesizer
    from tabgan.metadata import detect_kind

    cat = pd.Series(["a"] * 50 + ["b"] * 50 + ["Jane Doe, 1 Main St"], dtype="category")
    tr = DataTransformer().fit(pd.DataFrame({"c": cat}), rng=rng())
    back = tr.inverse_transform(tr.transform(pd.DataFrame({"c": cat}), rng=rng(1)), rng=rng(2))
    assert "Jane Doe, 1 Main St" not in list(back["c"].cat.categories)
    assert "Jane Doe, 1 Main St" not in str(tr.to_dict())
    ints = pd.DataFrame({"k": np.r_[np.ones(50, dtype=np.int64), np.full(50, 2), [99]]})
    tr = DataTransformer().fit(ints, Metadata.detect(ints, {"k": "discrete"}), rng=rng())
    back = tr.inverse_transform(tr.transform(ints, rng=rng(1)), rng=rng(2))
    assert str(back["k"].dtype) == "Int64" and back["k"].isna().sum() == 1
    dates = pd.Series([f"2019-01-{d:02d}" for d in range(1, 29)] * 100)
    assert detect_kind(dates) == "datetime"
    dates[1234] = "unknown"
    assert detect_kind(dates) == "discrete"
    with pytest.raises(InvalidParameterError, match=r"multiple of 'pac' \(3\). Got 500 \(the default\)"):
        Synthesizer(pac=3).fit(pd.DataFrame({"x": np.arange(100.0)}))


def test_private_transformers_clip_and_plain_ones_reflect_out_of_range_values():
    """A plain fit reflects a generated value beyond the range (no pile on one row's
    extreme); a private fit clips (its bounds are noisy or declared, and clipping makes
    the mass at a bound that it has no point mode for)."""
    df = pd.DataFrame({"x": np.linspace(0.0, 10.0, 200)})
    tr = DataTransformer(point_share=None).fit(df, rng=rng())
    info = tr.infos_[0]
    k = int(np.argmax(info.means))  # the mode nearest the top: push its scalar to +1
    n = 50
    codes = np.full((n, len(tr.layout_.softmax_spans)), k, dtype=np.int64)
    far = info.means[k] + info.scales[k] > info.upper
    assert far  # the mode reaches beyond the range
    values = np.ones((n, len(tr.layout_.tanh_spans)))
    plain = tr.decode(codes, values, rng=rng())["x"]
    assert (plain < info.upper).all() and (plain >= info.lower).all()
    tr.private_ = True
    private = tr.decode(codes, values, rng=rng())["x"]
    assert (private == info.upper).all()
