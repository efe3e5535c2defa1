import csv
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from waste.errors import AppError, Conflict
from waste.models.catalogs import Catalog, CatalogEntry
from waste.selectors.catalogs import (
    catalog_entry_lookup,
    catalog_versions,
    operation_is_final,
    waste_code_normalise,
)
from waste.services.catalogs import catalog_import, catalogs_load_shipped, catalogs_shipped

TODAY = date(2025, 6, 1)


@pytest.fixture
def shipped(db):
    return catalogs_load_shipped()


def write_csv(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def sw_file(tmp_path, rows, name="sw.csv"):
    return write_csv(tmp_path / name, ["code", "name"], rows)


def sw_version(tmp_path, version, effective_from, rows):
    """Imports a version of the China general industrial catalog made of ``rows``."""
    return catalog_import(
        key="cn-sw", version=version, effective_from=effective_from, path=sw_file(tmp_path, rows, f"{version}.csv")
    )


def counts(key):
    return CatalogEntry.objects.filter(catalog__key=key).count()


# --- shipped data -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_loads_842_eu_codes_with_408_hazardous(shipped):
    low = Catalog.objects.get(key="eu-low")
    assert low.entries.count() == 842
    assert low.entries.filter(is_hazardous=True).count() == 408
    assert low.entries.filter(display_code__endswith="*").count() == 408
    entry = low.entries.get(code="160104")
    assert entry.display_code == "16 01 04*"
    assert entry.is_hazardous
    assert entry.parent_code == "1601"
    assert entry.extra["entry_type"] == "Absolute hazardous"


@pytest.mark.django_db
def test_it_loads_every_shipped_catalog_with_its_counts(shipped):
    assert [c.key for c, created in shipped] == [s["key"] for s in catalogs_shipped()]
    assert all(created for _, created in shipped)
    assert counts("eu-rd-operations") == 28
    assert counts("eu-hp-properties") == 16
    assert counts("uk-container-types") == 16
    assert counts("cn-hw-categories") == 46
    assert counts("cn-sw") >= 10
    assert counts("household") == 15
    assert 30 <= counts("cn-hw") <= 60
    assert Catalog.objects.get(key="cn-hw").partial


@pytest.mark.django_db
def test_it_ships_the_46_hw_categories_in_use(shipped):
    codes = set(CatalogEntry.objects.filter(catalog__key="cn-hw-categories").values_list("code", flat=True))
    assert codes == {f"HW{n:02d}" for n in range(1, 51)} - {"HW41", "HW42", "HW43", "HW44"}
    assert not CatalogEntry.objects.filter(catalog__key="cn-hw-categories", is_hazardous=False).exists()


@pytest.mark.django_db
def test_it_gives_hw_codes_their_category_and_traits(shipped):
    oil = catalog_entry_lookup(code="900-249-08", on=TODAY)
    assert oil.parent_code == "HW08"
    assert oil.traits == ["T", "I"]
    assert oil.is_hazardous
    packaging = catalog_entry_lookup(code="900-041-49", on=TODAY)
    assert packaging.traits == ["T", "In"]
    for entry in CatalogEntry.objects.filter(catalog__key="cn-hw"):
        assert entry.parent_code == f"HW{entry.code[-2:]}"
        assert entry.traits and set(entry.traits) <= {"T", "C", "I", "R", "In"}


@pytest.mark.django_db
def test_it_marks_household_hazardous_subcategories_hazardous(shipped):
    batteries = catalog_entry_lookup(code="HH-H-03", on=TODAY)
    assert batteries.is_hazardous
    assert batteries.parent_code == "HH-H"
    assert not catalog_entry_lookup(code="hh-r-01", on=TODAY).is_hazardous
    parents = set(CatalogEntry.objects.filter(catalog__key="household").values_list("parent_code", flat=True))
    assert parents == {"", "HH-R", "HH-H", "HH-K"}


@pytest.mark.django_db
def test_it_loads_the_shipped_catalogs_twice_without_change(shipped):
    before = CatalogEntry.objects.count()
    again = catalogs_load_shipped()
    assert not any(created for _, created in again)
    assert CatalogEntry.objects.count() == before
    assert Catalog.objects.count() == len(catalogs_shipped())


# --- normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("16 01 04*", ("eu-low", "160104")),
        ("160104", ("eu-low", "160104")),
        ("16-01-04", ("eu-low", "160104")),
        (" 16.01.04 * ", ("eu-low", "160104")),
        ("900-249-08", ("cn-hw", "900-249-08")),
        ("90024908", ("cn-hw", "900-249-08")),
        ("HW08", ("cn-hw-categories", "HW08")),
        ("hw8", ("cn-hw-categories", "HW08")),
        ("SW01", ("cn-sw", "SW01")),
        ("sw 1", ("cn-sw", "SW01")),
        ("HH-R-01", ("household", "HH-R-01")),
        ("hh-k", ("household", "HH-K")),
    ],
)
def test_it_normalises_waste_code_spellings(raw, expected):
    assert waste_code_normalise(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "banana", "16 01", "1601045", "HW", "R13", None, "900-249-8"])
def test_it_rejects_garbage_waste_codes_with_the_field(raw):
    with pytest.raises(AppError) as caught:
        waste_code_normalise(raw, field="items[0].waste_code")
    assert caught.value.status == 400
    assert caught.value.code == "invalid_code"
    assert "items[0].waste_code" in caught.value.fields


# --- lookup by code and date --------------------------------------------------------------------


@pytest.mark.django_db
def test_it_looks_up_eu_codes_in_any_spelling(shipped):
    assert catalog_entry_lookup(code="16-01-04", on=TODAY).display_code == "16 01 04*"
    assert catalog_entry_lookup(code="200301", on=TODAY).name == "Mixed municipal waste"


@pytest.mark.django_db
def test_it_rejects_unknown_codes_with_the_field_path(shipped):
    with pytest.raises(AppError) as caught:
        catalog_entry_lookup(code="99 99 99", on=TODAY, field="batches[2].waste_code")
    error = caught.value
    assert (error.status, error.code) == (400, "unknown_code")
    assert "99 99 99" in error.fields["batches[2].waste_code"][0]


@pytest.mark.django_db
def test_it_says_the_hw_list_is_partial_when_a_code_is_missing(shipped):
    with pytest.raises(AppError) as caught:
        catalog_entry_lookup(code="900-000-08", on=TODAY)
    assert caught.value.code == "unknown_code"
    assert "partial" in caught.value.fields["waste_code"][0]


@pytest.mark.django_db
def test_it_refuses_dates_before_any_version(shipped):
    with pytest.raises(AppError) as caught:
        catalog_entry_lookup(code="HH-R", on=date(2010, 1, 1))
    assert caught.value.code == "not_yet_valid"
    assert "2019-12-01" in caught.value.fields["waste_code"][0]


@pytest.mark.django_db
def test_it_picks_the_version_in_force_after_a_newer_import(tmp_path):
    sw_version(tmp_path, "v1", date(2021, 1, 1), [["SW01", "冶炼废渣"], ["SW08", "old"]])
    sw_version(tmp_path, "v2", date(2024, 1, 1), [["SW01", "冶炼废渣（新）"], ["SW99", "new"]])

    v1, v2 = catalog_versions("cn-sw")
    assert (v1.version, v1.effective_until) == ("v1", date(2024, 1, 1))
    assert (v2.version, v2.effective_until) == ("v2", None)
    assert catalog_entry_lookup(code="SW01", on=date(2023, 12, 31)).catalog == v1
    assert catalog_entry_lookup(code="SW01", on=date(2024, 1, 1)).name == "冶炼废渣（新）"
    assert catalog_entry_lookup(code="SW08", on=date(2022, 5, 1)).name == "old"


@pytest.mark.django_db
def test_it_refuses_an_expired_code_naming_the_dates(tmp_path):
    sw_version(tmp_path, "v1", date(2021, 1, 1), [["SW01", "a"], ["SW08", "old"]])
    sw_version(tmp_path, "v2", date(2024, 1, 1), [["SW01", "a"]])

    with pytest.raises(AppError) as caught:
        catalog_entry_lookup(code="SW08", on=date(2024, 3, 1), field="waste_code")
    error = caught.value
    assert (error.status, error.code) == (400, "expired_code")
    message = error.fields["waste_code"][0]
    assert "2021-01-01" in message and "2024-01-01" in message and "v1" in message


@pytest.mark.django_db
def test_it_refuses_a_code_before_its_version_starts(tmp_path):
    sw_version(tmp_path, "v1", date(2021, 1, 1), [["SW01", "a"]])
    sw_version(tmp_path, "v2", date(2024, 1, 1), [["SW01", "a"], ["SW99", "new"]])
    with pytest.raises(AppError) as caught:
        catalog_entry_lookup(code="SW99", on=date(2023, 1, 1))
    assert caught.value.code == "not_yet_valid"


@pytest.mark.django_db
def test_it_fits_a_backdated_version_between_existing_ones(tmp_path):
    sw_version(tmp_path, "v1", date(2021, 1, 1), [["SW01", "a"]])
    sw_version(tmp_path, "v3", date(2025, 1, 1), [["SW01", "c"]])
    sw_version(tmp_path, "v2", date(2023, 1, 1), [["SW01", "b"]])
    assert [(c.version, c.effective_until) for c in catalog_versions("cn-sw")] == [
        ("v1", date(2023, 1, 1)),
        ("v2", date(2025, 1, 1)),
        ("v3", None),
    ]
    assert catalog_entry_lookup(code="SW01", on=date(2024, 6, 1)).name == "b"


# --- import rules -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_treats_a_repeated_import_as_a_no_op(tmp_path):
    path = sw_file(tmp_path, [["SW01", "a"], ["SW02", "b"]])
    first = catalog_import(key="cn-sw", version="v1", effective_from=date(2021, 1, 1), path=path)
    second = catalog_import(key="cn-sw", version="v1", effective_from=date(2021, 1, 1), path=path)
    assert first.pk == second.pk
    assert counts("cn-sw") == 2


@pytest.mark.django_db
def test_it_rejects_the_same_version_with_different_content(tmp_path):
    sw_version(tmp_path, "v1", date(2021, 1, 1), [["SW01", "a"]])
    with pytest.raises(Conflict) as caught:
        catalog_import(
            key="cn-sw",
            version="v1",
            effective_from=date(2021, 1, 1),
            path=sw_file(tmp_path, [["SW01", "changed"]], "b.csv"),
        )
    assert caught.value.code == "catalog_version_conflict"
    assert CatalogEntry.objects.get(code="SW01").name == "a"


@pytest.mark.django_db
def test_it_reports_every_bad_row_and_imports_nothing(tmp_path):
    path = write_csv(
        tmp_path / "hw.csv",
        ["code", "category", "description_zh", "hazard_traits"],
        [
            ["900-249-08", "HW08", "ok", "T,I"],
            ["900-249", "HW08", "bad code", "T"],
            ["900-214-08", "HW08", "", "T,I"],
            ["900-041-49", "HW49", "bad trait", "T,X"],
            ["900-249-08", "HW08", "repeat", "T"],
            ["900-052-31", "HW29", "wrong category", "T,C"],
        ],
    )
    with pytest.raises(AppError) as caught:
        catalog_import(
            key="cn-hw",
            version="x",
            effective_from=date(2021, 1, 1),
            path=path,
            columns={
                "code": "code",
                "name": "description_zh",
                "parent_code": "category",
                "hazard_traits": "hazard_traits",
            },
        )
    fields = caught.value.fields
    assert caught.value.code == "invalid_catalog"
    assert set(fields) == {
        "rows[3].code",
        "rows[4].name",
        "rows[5].hazard_traits",
        "rows[6].code",
        "rows[7].parent_code",
    }
    assert "Row 6" in fields["rows[6].code"][0] and "row 2" in fields["rows[6].code"][0]
    assert not Catalog.objects.exists()


@pytest.mark.django_db
def test_it_rejects_a_column_mapping_that_does_not_fit(tmp_path):
    path = write_csv(tmp_path / "x.csv", ["kode", "label"], [["SW01", "a"]])
    with pytest.raises(AppError) as caught:
        catalog_import(key="cn-sw", version="v1", effective_from=date(2021, 1, 1), path=path)
    assert {"columns.code", "columns.name"} <= set(caught.value.fields)
    catalog = catalog_import(
        key="cn-sw",
        version="v1",
        effective_from=date(2021, 1, 1),
        path=path,
        columns={"code": "kode", "name": "label"},
    )
    assert catalog.entries.get().code == "SW01"


@pytest.mark.django_db
def test_it_rejects_a_missing_file_and_an_empty_one(tmp_path):
    with pytest.raises(AppError) as caught:
        catalog_import(key="cn-sw", version="v1", effective_from=date(2021, 1, 1), path=tmp_path / "nope.csv")
    assert "path" in caught.value.fields
    with pytest.raises(AppError) as caught:
        catalog_import(key="cn-sw", version="v1", effective_from=date(2021, 1, 1), path=sw_file(tmp_path, []))
    assert "path" in caught.value.fields


@pytest.mark.django_db
def test_it_rejects_two_versions_starting_the_same_day(tmp_path):
    sw_version(tmp_path, "v1", date(2021, 1, 1), [["SW01", "a"]])
    with pytest.raises(Conflict):
        catalog_import(
            key="cn-sw",
            version="v2",
            effective_from=date(2021, 1, 1),
            path=sw_file(tmp_path, [["SW01", "b"]], "b.csv"),
        )


# --- operations ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_knows_interim_operations_are_not_a_final_fate(shipped):
    for code in ["R12", "R13", "D13", "D14", "D15"]:
        assert operation_is_final(code, on=TODAY) is False
        assert catalog_entry_lookup(code=code, on=TODAY, catalog_key="eu-rd-operations").extra["interim"]
    for code in ["R1", "R3", "r 4", "D1", "D10", "D 12"]:
        assert operation_is_final(code, on=TODAY) is True


@pytest.mark.django_db
def test_it_rejects_unknown_operations(shipped):
    with pytest.raises(AppError) as caught:
        operation_is_final("R14", on=TODAY, field="operation_code")
    assert caught.value.code == "unknown_code"
    assert "operation_code" in caught.value.fields
    with pytest.raises(AppError) as caught:
        operation_is_final("X1", on=TODAY)
    assert caught.value.code == "invalid_code"


@pytest.mark.django_db
def test_it_keeps_hp_codes_canonical(shipped):
    assert catalog_entry_lookup(code="HP_14", on=TODAY, catalog_key="eu-hp-properties").name == "Ecotoxic"
    pop = catalog_entry_lookup(code="HP_POP", on=TODAY, catalog_key="eu-hp-properties")
    assert (pop.code, pop.display_code) == ("HPPOP", "HP POP")


# --- commands -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_imports_a_catalog_from_the_command_line(tmp_path):
    path = sw_file(tmp_path, [["SW01", "冶炼废渣"]])
    out = StringIO()
    call_command(
        "import_catalog",
        "cn-sw",
        "2025",
        str(path),
        "--effective-from",
        "2025-01-01",
        "--source",
        "test",
        "--partial",
        stdout=out,
    )
    catalog = Catalog.objects.get(key="cn-sw")
    assert (catalog.version, catalog.partial, catalog.source) == ("2025", True, "test")
    assert "1 entries" in out.getvalue()


@pytest.mark.django_db
def test_it_fails_the_command_with_the_bad_rows(tmp_path):
    path = sw_file(tmp_path, [["SW01", "a"], ["nonsense", "b"]])
    with pytest.raises(CommandError) as caught:
        call_command("import_catalog", "cn-sw", "2025", str(path), "--effective-from", "2025-01-01")
    assert "rows[3].code" in str(caught.value)
    assert not Catalog.objects.exists()


@pytest.mark.django_db
def test_it_fails_the_command_on_a_bad_date_or_column(tmp_path):
    path = sw_file(tmp_path, [["SW01", "a"]])
    with pytest.raises(CommandError, match="effective-from"):
        call_command("import_catalog", "cn-sw", "2025", str(path), "--effective-from", "01/01/2025")
    with pytest.raises(CommandError, match="FIELD=COLUMN"):
        call_command(
            "import_catalog",
            "cn-sw",
            "2025",
            str(path),
            "--effective-from",
            "2025-01-01",
            "--column",
            "code",
        )


@pytest.mark.django_db
def test_it_loads_shipped_catalogs_from_the_command_line():
    out = StringIO()
    call_command("load_catalogs", stdout=out)
    call_command("load_catalogs", stdout=out)
    text = out.getvalue()
    assert "842 entries  loaded" in text
    assert "842 entries  already loaded" in text


@pytest.mark.django_db
def test_it_refuses_lookups_when_no_version_is_loaded():
    with pytest.raises(AppError) as caught:
        catalog_entry_lookup(code="SW01", on=TODAY)
    assert caught.value.code == "unknown_code"
    assert "No version of catalog cn-sw" in caught.value.fields["waste_code"][0]
