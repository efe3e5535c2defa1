"""Writes of the code catalogs: import a version from CSV, load the shipped ones.

A catalog key (`eu-low`, `cn-hw`, ...) has versions that follow each other in time: a version
is in force from its `effective_from` until the next version's `effective_from`. Importing
is all-or-nothing, reports every bad row at once, and is idempotent.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from waste.errors import AppError, Conflict
from waste.models.catalogs import Catalog, CatalogEntry
from waste.selectors.catalogs import code_canonical, code_display

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "catalogs" / "data"
SHIPPED_MANIFEST = SHIPPED_DIR / "catalogs.json"

ENTRY_FIELDS = ("code", "display_code", "name", "parent_code", "is_hazardous", "hazard_traits")
HAZARD_TRAITS = (
    "T",
    "C",
    "I",
    "R",
    "In",
)  # China: toxic, corrosive, ignitable, reactive, infectious
_TRAIT_SPELLINGS = {t.lower(): t for t in HAZARD_TRAITS}
_TRUE = {"true", "t", "yes", "y", "1", "是"}
_FALSE = {"false", "f", "no", "n", "0", "否", ""}
_MAX_ERRORS = 200


@dataclass(frozen=True)
class _Row:
    code: str
    display_code: str
    name: str
    parent_code: str
    is_hazardous: bool
    hazard_traits: str
    extra: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, entry: CatalogEntry) -> _Row:
        return cls(
            entry.code,
            entry.display_code,
            entry.name,
            entry.parent_code,
            entry.is_hazardous,
            entry.hazard_traits,
            _frozen(entry.extra),
        )


@dataclass(frozen=True)
class _Named:
    name: str


def _frozen(extra: dict) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in extra.items()))


def _bool(value: str) -> bool | None:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _extra_value(value: str) -> Any:
    text = value.strip()
    if text.lower() in {"true", "false"}:
        return text.lower() == "true"
    return text


def _traits(value: str) -> tuple[list[str], list[str]]:
    parts = [p for p in re.split(r"[\s,，/、;]+", value.strip()) if p]
    good = [_TRAIT_SPELLINGS[p.lower()] for p in parts if p.lower() in _TRAIT_SPELLINGS]
    bad = [p for p in parts if p.lower() not in _TRAIT_SPELLINGS]
    ordered = [t for t in HAZARD_TRAITS if t in good]
    return ordered, bad


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = []
            for record in reader:
                if None in record:
                    rows.append((reader.line_num, {"__overflow__": "1", **record}))
                elif any((v or "").strip() for v in record.values()):
                    rows.append((reader.line_num, record))
    except FileNotFoundError as exc:
        raise AppError.field("path", _("No such file: %(path)s") % {"path": path}, code="invalid_file") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise AppError.field(
            "path", _("%(path)s is not a UTF-8 CSV file: %(exc)s") % {"path": path, "exc": exc}, code="invalid_file"
        ) from exc
    return header, rows


def _column_map(header: list[str], columns: dict[str, str] | None) -> dict[str, str]:
    if columns is None:
        mapping = {f: f for f in ENTRY_FIELDS if f in header}
        if "name" not in mapping and "description" in header:
            mapping["name"] = "description"
    else:
        mapping = dict(columns)
    errors: dict[str, list[str]] = {}
    for field, column in mapping.items():
        if field not in ENTRY_FIELDS:
            errors.setdefault(f"columns.{field}", []).append(
                _("Unknown entry field %(field)s; expected one of %(join)s.")
                % {"field": repr(field), "join": ", ".join(ENTRY_FIELDS)}
            )
        elif column not in header:
            errors.setdefault(f"columns.{field}", []).append(
                _("Column %(column)s is not in the file header (%(join)s).")
                % {"column": repr(column), "join": ", ".join(header)}
            )
    for required in ("code", "name"):
        if required not in mapping:
            errors.setdefault(f"columns.{required}", []).append(
                _("Which column holds the entry %(required)s? None is mapped and none is named so.")
                % {"required": required}
            )
    if errors:
        raise AppError(_("The column mapping does not fit the file."), code="invalid_catalog", fields=errors)
    return mapping


def _parse_rows(
    *, key: str, header: list[str], rows: list[tuple[int, dict[str, str]]], mapping: dict[str, str]
) -> tuple[list[_Row], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    parsed: list[_Row] = []
    seen: dict[str, int] = {}
    mapped_columns = set(mapping.values())

    def err(line: int, field: str, message: str) -> None:
        errors.setdefault(f"rows[{line}].{field}", []).append(
            _("Row %(line)s: %(message)s") % {"line": line, "message": message}
        )

    def cell(record: dict[str, str], field: str) -> str:
        column = mapping.get(field)
        return (record.get(column) or "").strip() if column else ""

    for line, record in rows:
        if record.pop("__overflow__", None):
            err(line, "row", _("more cells than header columns."))
            continue
        raw_code = cell(record, "code")
        code = code_canonical(key, raw_code) if raw_code else None
        if not raw_code:
            err(line, "code", _("the code is empty."))
        elif code is None:
            err(line, "code", _("%(code)s is not a valid %(key)s code.") % {"code": repr(raw_code), "key": key})
        elif code in seen:
            err(line, "code", _("code %(code)s repeats row %(row)s.") % {"code": code, "row": seen[code]})
        else:
            seen[code] = line

        name = cell(record, "name")
        if not name:
            err(line, "name", _("the name is empty."))

        traits, bad_traits = _traits(cell(record, "hazard_traits"))
        if bad_traits:
            err(
                line,
                "hazard_traits",
                _("unknown hazard trait(s) %(traits)s; allowed: %(allowed)s.")
                % {"traits": ", ".join(bad_traits), "allowed": ", ".join(HAZARD_TRAITS)},
            )

        if "is_hazardous" in mapping:
            hazardous = _bool(cell(record, "is_hazardous"))
            if hazardous is None:
                err(
                    line,
                    "is_hazardous",
                    _("%(value)s is not true or false.") % {"value": repr(cell(record, "is_hazardous"))},
                )
                hazardous = False
        else:
            hazardous = bool(traits)

        display = cell(record, "display_code")
        if key == "eu-low" and display and display.endswith("*") != hazardous:
            err(
                line,
                "display_code",
                _("%(display)s disagrees with is_hazardous=%(hazardous)s.")
                % {"display": repr(display), "hazardous": hazardous},
            )

        parent = re.sub(r"\s+", "", cell(record, "parent_code")).upper()
        if key == "cn-hw" and code and parent and parent != f"HW{code[-2:]}":
            err(
                line,
                "parent_code",
                _("code %(code)s belongs to %(category)s, not %(parent)s.")
                % {"code": code, "category": f"HW{code[-2:]}", "parent": parent},
            )

        if code is None or not name:
            continue
        extra = {
            column: _extra_value(value or "")
            for column, value in record.items()
            if column not in mapped_columns and (value or "").strip()
        }
        parsed.append(
            _Row(
                code=code,
                display_code=display or code_display(key, code, is_hazardous=hazardous),
                name=name,
                parent_code=parent,
                is_hazardous=hazardous,
                hazard_traits=",".join(traits),
                extra=_frozen(extra),
            )
        )
        if len(errors) >= _MAX_ERRORS:
            break
    if not rows:
        errors.setdefault("path", []).append(_("The file has no data rows."))
    return parsed, errors


def _annotate(key: str, parsed: list[_Row], annotations: dict[str, dict] | None) -> list[_Row]:
    if not annotations:
        return parsed
    by_code: dict[str, dict] = {}
    errors: dict[str, list[str]] = {}
    for raw, facts in annotations.items():
        code = code_canonical(key, raw)
        if code is None or code not in {r.code for r in parsed}:
            errors.setdefault(f"annotations.{raw}", []).append(
                _("%(raw)s is not a code in the file.") % {"raw": repr(raw)}
            )
        else:
            by_code[code] = facts
    if errors:
        raise AppError(_("Annotations name codes the file lacks."), code="invalid_catalog", fields=errors)
    out = []
    for row in parsed:
        if row.code in by_code:
            extra = {k: json.loads(v) for k, v in row.extra} | by_code[row.code]
            row = replace(row, extra=_frozen(extra))
        out.append(row)
    return out


def _same_content(catalog: Catalog, parsed: list[_Row], effective_from: date) -> bool:
    if catalog.effective_from != effective_from:
        return False
    existing = {_Row.of(e) for e in catalog.entries.all()}
    return existing == set(parsed)


def _catalog_import(
    *,
    key: str,
    version: str,
    effective_from: date,
    path: str | Path,
    name: str | None = None,
    source: str = "",
    licence: str = "",
    partial: bool = False,
    columns: dict[str, str] | None = None,
    annotations: dict[str, dict] | None = None,
) -> tuple[Catalog, bool]:
    if not isinstance(effective_from, date):
        raise AppError.field("effective_from", _("effective_from must be a date."))
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", key or ""):
        raise AppError.field(
            "key", _("%(key)s is not a catalog key (lower-case letters, digits, '-').") % {"key": repr(key)}
        )
    if not (version or "").strip() or len(version) > 40:
        raise AppError.field("version", _("The version must be 1 to 40 characters."))

    header, rows = _read_csv(Path(path))
    mapping = _column_map(header, columns)
    parsed, errors = _parse_rows(key=key, header=header, rows=rows, mapping=mapping)
    if errors:
        count = sum(len(v) for v in errors.values())
        raise AppError(
            _("%(path)s: %(count)s problem(s); nothing was imported.") % {"path": path, "count": count},
            code="invalid_catalog",
            fields=errors,
        )
    parsed = _annotate(key, parsed, annotations)

    with transaction.atomic():
        versions = list(Catalog.objects.select_for_update().filter(key=key).order_by("effective_from"))
        same = next((c for c in versions if c.version == version), None)
        if same is not None:
            if _same_content(same, parsed, effective_from):
                return same, False
            raise Conflict.field(
                "version",
                _(
                    "%(key)s version %(version)s is already loaded with different content or dates; "
                    "give the new list a new version."
                )
                % {"key": key, "version": version},
                code="catalog_version_conflict",
            )
        clash = next((c for c in versions if c.effective_from == effective_from), None)
        if clash is not None:
            raise Conflict.field(
                "effective_from",
                _("%(key)s version %(version)s already starts on %(isoformat)s.")
                % {"key": key, "version": clash.version, "isoformat": effective_from.isoformat()},
                code="catalog_version_conflict",
            )
        earlier = [c for c in versions if c.effective_from < effective_from]
        later = [c for c in versions if c.effective_from > effective_from]
        previous = earlier[-1] if earlier else None
        following = later[0] if later else None
        try:
            with transaction.atomic():
                catalog = Catalog.objects.create(
                    key=key,
                    version=version,
                    name=name or (previous or following or _Named(key)).name,
                    effective_from=effective_from,
                    effective_until=following.effective_from if following else None,
                    source=source,
                    licence=licence,
                    partial=partial,
                )
        except IntegrityError as exc:
            raise Conflict.field(
                "version",
                _("%(key)s version %(version)s was imported concurrently.") % {"key": key, "version": version},
                code="catalog_version_conflict",
            ) from exc
        CatalogEntry.objects.bulk_create(
            [
                CatalogEntry(
                    catalog=catalog,
                    code=r.code,
                    display_code=r.display_code,
                    name=r.name,
                    parent_code=r.parent_code,
                    is_hazardous=r.is_hazardous,
                    hazard_traits=r.hazard_traits,
                    extra={k: json.loads(v) for k, v in r.extra},
                )
                for r in parsed
            ],
            batch_size=500,
        )
        if previous is not None and (previous.effective_until is None or previous.effective_until > effective_from):
            previous.effective_until = effective_from
            previous.save(update_fields=["effective_until"])
    return catalog, True


def catalog_import(
    *,
    key: str,
    version: str,
    effective_from: date,
    path: str | Path,
    name: str | None = None,
    source: str = "",
    licence: str = "",
    partial: bool = False,
    columns: dict[str, str] | None = None,
    annotations: dict[str, dict] | None = None,
) -> Catalog:
    """Load one version of a catalog from a CSV file (UTF-8, header row).

    `columns` maps entry fields (code, display_code, name, parent_code, is_hazardous,
    hazard_traits) to CSV columns; by default columns named like the fields are used. Other
    columns land in each entry's `extra`; `annotations` ({code: {...}}) adds to `extra`.
    Same key + version + content again is a no-op; different content is a Conflict. The
    version in force before `effective_from` ends on that date.
    """
    catalog, _created = _catalog_import(
        key=key,
        version=version,
        effective_from=effective_from,
        path=path,
        name=name,
        source=source,
        licence=licence,
        partial=partial,
        columns=columns,
        annotations=annotations,
    )
    return catalog


def catalogs_shipped() -> list[dict]:
    with SHIPPED_MANIFEST.open(encoding="utf-8") as fh:
        return json.load(fh)["catalogs"]


@transaction.atomic
def catalogs_load_shipped() -> list[tuple[Catalog, bool]]:
    """Load every catalog listed in catalogs.json; already-loaded versions are left alone.
    Returns (catalog, created) pairs in manifest order."""
    results = []
    for spec in catalogs_shipped():
        results.append(
            _catalog_import(
                key=spec["key"],
                version=spec["version"],
                effective_from=date.fromisoformat(spec["effective_from"]),
                path=SHIPPED_DIR / spec["file"],
                name=spec["name"],
                source=spec.get("source", ""),
                licence=spec.get("licence", ""),
                partial=spec.get("partial", False),
                columns=spec.get("columns"),
                annotations=spec.get("annotations"),
            )
        )
    return results
