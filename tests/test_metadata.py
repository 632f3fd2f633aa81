from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabgan import ColumnMetadata, InvalidDataError, Metadata


def frame():
    return pd.DataFrame(
        {
            "f": [0.5, 1.5, 2.5],
            "i": [1, 2, 3],
            "whole_float": [1.0, np.nan, 3.0],
            "s": ["a", "b", "c"],
            "b": [True, False, True],
            "ob": pd.Series([True, False, None], dtype=object),
            "cat": pd.Categorical(["x", "y", "x"]),
            "d": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01"]),
        }
    )


def test_detection():
    m = Metadata.detect(frame())
    kinds = {n: c.kind for n, c in m.columns.items()}
    assert kinds == {
        "f": "continuous", "i": "integer", "whole_float": "integer", "s": "discrete",
        "b": "boolean", "ob": "boolean", "cat": "discrete", "d": "datetime",
    }
    assert m.discrete_columns == ["s", "b", "ob", "cat"]
    assert m.numeric_columns == ["f", "i", "whole_float", "d"]


def test_overrides_and_json_round_trip(tmp_path):
    m = Metadata.detect(frame(), {"i": "discrete", "f": {"kind": "continuous", "lower": 0, "upper": 3}})
    assert m["i"].kind == "discrete" and m["f"].upper == 3
    again = Metadata.from_json(m.to_json())
    assert again == m
    path = tmp_path / "meta.json"
    m.to_json(str(path))
    assert Metadata.from_json(str(path)) == m
    m2 = Metadata.detect(frame(), m)
    assert m2 == m


@pytest.mark.parametrize(
    "overrides,match",
    [
        ({"nope": "discrete"}, "not in the table"),
        ({"f": "float"}, "Unknown column kind"),
        ({"f": {"kind": "continuous", "lower": 3, "upper": 1}}, "inverted"),
        ({"f": {"kind": "continuous", "min": 3}}, "unknown keys"),
        ({"f": {"lower": 1}}, "needs a 'kind'"),
        ({"f": 3}, "kind string or a dict"),
        ("f", "mapping"),
    ],
)
def test_bad_overrides(overrides, match):
    with pytest.raises(InvalidDataError, match=match):
        Metadata.detect(frame(), overrides)


def test_bad_json():
    with pytest.raises(InvalidDataError, match="not valid JSON"):
        Metadata.from_json("{nope")
    with pytest.raises(InvalidDataError, match="columns"):
        Metadata.from_dict({"cols": {}})


def test_column_metadata_categories_are_tuples():
    c = ColumnMetadata(kind="discrete", categories=["a", "b"])
    assert c.categories == ("a", "b") and c.is_discrete and not c.is_numeric


def test_date_and_time_strings_are_datetimes_in_a_year_first_format():
    from tabgan.columns import datetime_format
    from tabgan.metadata import detect_kind

    iso = pd.Series(["2017-05-01T00:14:22Z", "2017-06-11T13:04:02Z", None] * 20)
    assert detect_kind(iso) == "datetime" and datetime_format(iso) == "%Y-%m-%dT%H:%M:%SZ"
    assert datetime_format(pd.Series(["2019-01-31", "2020-02-29"])) == "%Y-%m-%d"
    for values in (["10-24", "24-55"], ["01/02/2020", "13/02/2020"], ["2019-01-31", "soon"],
                   ["2019-13-01", "2019-01-01"], [20190101, 20190102]):
        assert detect_kind(pd.Series(values * 10)) != "datetime", values


def test_identifier_like_columns_are_found_only_when_asked():
    from tabgan.metadata import MIN_IDENTIFIER_ROWS

    n = 2 * MIN_IDENTIFIER_ROWS
    df = pd.DataFrame({
        "email": [f"user{i}@mail{i % 3}.org" for i in range(n)],
        "city": [f"c{i % 7}" for i in range(n)],
        "few": [f"id{i}" for i in range(MIN_IDENTIFIER_ROWS - 1)] + [None] * (n - MIN_IDENTIFIER_ROWS + 1),
        "num": np.arange(n),
    })
    found = Metadata.detect(df, find_identifiers=True)
    assert [c for c in df if found[c].kind == "identifier"] == ["email"]
    assert Metadata.detect(df)["email"].kind == "discrete"  # evaluation and audits: as before
    assert Metadata.detect(df, {"email": "discrete"}, find_identifiers=True)["email"].kind == "discrete"


# ------------------------------------------------------------ SDV metadata
#: A realistic SDV 1.x single-table file (as ``SingleTableMetadata.save_to_json`` writes it).
SDV_HOTEL = {
    "METADATA_SPEC_VERSION": "SINGLE_TABLE_V1",
    "primary_key": "guest_id",
    "alternate_keys": ["booking_ref"],
    "columns": {
        "guest_id": {"sdtype": "id", "regex_format": "G_[0-9]{5}"},
        "booking_ref": {"sdtype": "id"},
        "guest_email": {"sdtype": "email", "pii": True},
        "has_rewards": {"sdtype": "boolean"},
        "room_type": {"sdtype": "categorical"},
        "nights": {"sdtype": "numerical", "computer_representation": "Int64"},
        "floor": {"sdtype": "numerical", "computer_representation": "UInt8"},
        "amenities_fee": {"sdtype": "numerical", "computer_representation": "Float"},
        "room_rate": {"sdtype": "numerical"},
        "checkin_date": {"sdtype": "datetime", "datetime_format": "%d %b %Y"},
        "country": {"sdtype": "country_code", "pii": False},
        "billing_address": {"sdtype": "address", "pii": True},
        "notes": {"sdtype": "unknown", "pii": True},
        "hotel_id": {"sdtype": "id", "regex_format": "HID_[0-9]{3}"},  # a foreign key
    },
    "column_relationships": [],
}


def test_sdv_single_table_metadata_maps_every_sdtype(tmp_path):
    import json

    path = tmp_path / "hotel.json"
    path.write_text(json.dumps(SDV_HOTEL))
    for meta in (Metadata.from_sdv(SDV_HOTEL), Metadata.from_sdv(path),
                 Metadata.from_sdv(str(path)), Metadata.from_json(path)):
        kinds = {n: c.kind for n, c in meta.columns.items()}
        assert kinds == {
            "guest_id": "id", "booking_ref": "id", "guest_email": "identifier",
            "has_rewards": "boolean", "room_type": "discrete", "nights": "integer",
            "floor": "integer", "amenities_fee": "continuous", "room_rate": "continuous",
            "checkin_date": "datetime", "country": "discrete", "billing_address": "identifier",
            "notes": "identifier", "hotel_id": "identifier",  # no key of this table: may repeat
        }
        assert meta["checkin_date"].format == "%d %b %Y"
        assert meta.formats == {"checkin_date": "%d %b %Y"}
    # a primary key of a PII sdtype is a key too
    keyed = Metadata.from_sdv({**SDV_HOTEL, "primary_key": "guest_email"})
    assert keyed["guest_email"].kind == "id"
    # the tabgan round trip keeps the format
    again = Metadata.from_json(Metadata.from_sdv(SDV_HOTEL).to_json())
    assert again == Metadata.from_sdv(SDV_HOTEL)


def test_sdv_multi_table_metadata_needs_the_table_named_when_there_are_several():
    one = {"METADATA_SPEC_VERSION": "V1", "tables": {"guests": SDV_HOTEL}, "relationships": []}
    assert Metadata.from_sdv(one)["guest_id"].kind == "id"
    two = {"METADATA_SPEC_VERSION": "MULTI_TABLE_V1",
           "tables": {"hotels": {"primary_key": "hotel_id", "columns": {
               "hotel_id": {"sdtype": "id"}, "city": {"sdtype": "categorical"}}},
               "guests": SDV_HOTEL}}
    with pytest.raises(InvalidDataError, match=r"2 tables \(hotels, guests\).*table="):
        Metadata.from_sdv(two)
    assert list(Metadata.from_sdv(two, table="hotels").columns) == ["hotel_id", "city"]
    with pytest.raises(InvalidDataError, match="no table 'rooms'"):
        Metadata.from_sdv(two, table="rooms")


@pytest.mark.parametrize("doc, message", [
    ({"columns": {"x": {"sdtype": "gps_trace"}}}, r"'x' has SDV sdtype 'gps_trace'"),
    ({"columns": {"x": {"type": "numerical"}}}, r"'x' needs an 'sdtype'"),
    ({"fields": {"x": {"type": "numerical"}}}, r"SDV 0\.x"),
    ({"METADATA_SPEC_VERSION": "SINGLE_TABLE_V9", "columns": {}}, "SINGLE_TABLE_V9"),
    ({"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1", "sequence_key": "user",
      "columns": {"user": {"sdtype": "id"}}}, "sequence key"),
    ({"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1", "primary_key": "nope",
      "columns": {"x": {"sdtype": "categorical"}}}, r"keys that are not among its columns"),
    ({"columns": {"d": {"sdtype": "datetime", "datetime_format": "day-month"}}},
     "not a strftime pattern"),
])
def test_bad_sdv_metadata_is_refused_with_a_message_that_names_the_problem(doc, message):
    with pytest.raises(InvalidDataError, match=message):
        Metadata.from_sdv(doc)


def test_metadata_that_is_no_dict_nor_file_is_refused(tmp_path):
    for bad, message in ((123, "got int"), (["columns"], "got list"),
                         (tmp_path / "missing.json", "Cannot read the metadata file"),
                         ("{not json", "not valid JSON")):
        with pytest.raises(InvalidDataError, match=message):
            Metadata.from_sdv(bad)


def test_plain_metadata_naming_a_column_like_an_sdv_key_is_not_taken_for_sdv():
    df = pd.DataFrame({"tables": ["a", "b"] * 5, "METADATA_SPEC_VERSION": [1, 2] * 5})
    meta = Metadata.detect(df, {"tables": "discrete", "METADATA_SPEC_VERSION": "discrete"})
    assert meta["tables"].kind == meta["METADATA_SPEC_VERSION"].kind == "discrete"
    assert Metadata.from_json('{"columns": {"tables": {"kind": "discrete"}}}')[
        "tables"].kind == "discrete"


def test_formats_with_a_utc_offset_are_accepted():
    assert ColumnMetadata(kind="datetime", format="%Y-%m-%d %H:%M:%S%z").format.endswith("%z")


def test_sdv_metadata_is_accepted_wherever_metadata_is():
    df = pd.DataFrame({"room_type": ["a", "b"] * 5, "nights": [1.0, 2.0] * 5})
    doc = {"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1", "columns": {
        "room_type": {"sdtype": "categorical"},
        "nights": {"sdtype": "numerical", "computer_representation": "Float"}}}
    meta = Metadata.detect(df, doc)
    assert meta["nights"].kind == "continuous"  # detection alone says integer


# ------------------------------------------------------------ roles and formats
def test_formats_belong_to_datetimes_and_must_be_strftime_patterns():
    assert ColumnMetadata(kind="datetime", format="%d/%m/%Y").to_dict() == {
        "kind": "datetime", "format": "%d/%m/%Y"}
    with pytest.raises(InvalidDataError, match="formats are for datetime columns"):
        ColumnMetadata(kind="discrete", format="%Y")
    with pytest.raises(InvalidDataError, match="not a strftime pattern"):
        ColumnMetadata(kind="datetime", format="dd/mm/yyyy")
    with pytest.raises(InvalidDataError, match="unknown keys"):
        Metadata.detect(frame(), {"d": {"kind": "datetime", "fmt": "%Y"}})


def test_declared_roles_drop_omitted_columns_and_parse_declared_formats():
    from tabgan.metadata import declared_roles

    df = pd.DataFrame({"day": ["31/01/2020", None, "01/02/2020"], "x": [1, 2, 3],
                       "free": [[1], "a", 2]})  # never read: it would be refused
    out, declared, omitted = declared_roles(
        df, {"day": {"kind": "datetime", "format": "%d/%m/%Y"}, "free": "omit"})
    assert omitted == ["free"] and list(out.columns) == ["day", "x"] and "free" not in declared
    assert list(out["day"]) [0] == pd.Timestamp("2020-01-31") and pd.isna(out["day"][1])
    assert list(df.columns) == ["day", "x", "free"]  # the caller's table is not changed
    with pytest.raises(InvalidDataError, match=r"'day'.*'%m/%d/%Y'.*1 of its values"):
        declared_roles(df, {"day": {"kind": "datetime", "format": "%m/%d/%Y"}})
    with pytest.raises(InvalidDataError, match="nothing left"):
        declared_roles(df, {c: "omit" for c in df.columns})
    with pytest.raises(InvalidDataError, match="not in the table"):
        declared_roles(df, {"nope": "omit"})
    with pytest.raises(InvalidDataError, match="not shown") as err:  # a private fit's refusal
        declared_roles(df, {"day": {"kind": "datetime", "format": "%m/%d/%Y"}}, private=True)
    assert "31/01" not in str(err.value) and "row" not in str(err.value)
    # a format declared for a column of datetimes is dropped: its samples stay datetimes
    stamps = df.assign(day=pd.to_datetime(df["day"], format="%d/%m/%Y"))
    _, declared, _ = declared_roles(stamps, {"day": {"kind": "datetime", "format": "%d/%m/%Y"}})
    assert declared["day"].format is None
