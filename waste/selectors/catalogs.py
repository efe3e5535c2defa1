"""Reads of the code catalogs: code normalisation and lookups by code *and date*.

Canonical code forms (what `CatalogEntry.code` holds):

- `eu-low`               6 digits, `160104` (display `16 01 04*`, `*` = hazardous)
- `cn-hw`                `900-249-08` (display the same)
- `cn-hw-categories`     `HW08`
- `cn-sw`                `SW01`
- `household`            `HH-R`, `HH-R-01`
- `eu-rd-operations`     `R1` ... `R13`, `D1` ... `D15`
- `eu-hp-properties`     `HP1` ... `HP15`, `HPPOP` (display `HP 1`, `HP POP`)
- `uk-container-types`   `DRU`
- any other key          trimmed and upper-cased
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from waste.errors import AppError
from waste.models.catalogs import Catalog, CatalogEntry

WASTE_CATALOGS = ("eu-low", "cn-hw", "cn-hw-categories", "cn-sw", "household")
OPERATIONS_CATALOG = "eu-rd-operations"

_EU_LOW = re.compile(r"^(\d{2})[\s.\-]?(\d{2})[\s.\-]?(\d{2})\s*(\*?)$")
_CN_HW = re.compile(r"^(\d{3})[\s\-]?(\d{3})[\s\-]?(\d{2})$")
_CN_HW_CATEGORY = re.compile(r"^HW\s*[-_]?\s*(\d{1,2})$")
_CN_SW = re.compile(r"^SW\s*[-_]?\s*(\d{1,2})$")
_HOUSEHOLD = re.compile(r"^HH[\s\-_]?([RHKO])(?:[\s\-_]?(\d{1,2}))?$")
_RD = re.compile(r"^([RD])\s*[-_.]?\s*0*(\d{1,2})$")
_HP = re.compile(r"^HP\s*[-_.]?\s*(?:0*(\d{1,2})|(POP))$")


def _eu_low(raw: str) -> str | None:
    m = _EU_LOW.match(raw)
    return "".join(m.groups()[:3]) if m else None


def _cn_hw(raw: str) -> str | None:
    m = _CN_HW.match(raw)
    return "-".join(m.groups()) if m else None


def _cn_hw_category(raw: str) -> str | None:
    m = _CN_HW_CATEGORY.match(raw.upper())
    return f"HW{int(m.group(1)):02d}" if m else None


def _cn_sw(raw: str) -> str | None:
    m = _CN_SW.match(raw.upper())
    return f"SW{int(m.group(1)):02d}" if m else None


def _household(raw: str) -> str | None:
    m = _HOUSEHOLD.match(raw.upper())
    if not m:
        return None
    category, sub = m.groups()
    return f"HH-{category}-{int(sub):02d}" if sub else f"HH-{category}"


def _rd(raw: str) -> str | None:
    m = _RD.match(raw.upper())
    if not m or not (1 <= int(m.group(2)) <= 99):
        return None
    return f"{m.group(1)}{int(m.group(2))}"


def _hp(raw: str) -> str | None:
    m = _HP.match(raw.upper())
    if not m:
        return None
    return "HPPOP" if m.group(2) else f"HP{int(m.group(1))}"


def _plain(raw: str) -> str | None:
    code = re.sub(r"\s+", " ", raw).upper()
    return code or None


CANONICALISERS: dict[str, Callable[[str], str | None]] = {
    "eu-low": _eu_low,
    "cn-hw": _cn_hw,
    "cn-hw-categories": _cn_hw_category,
    "cn-sw": _cn_sw,
    "household": _household,
    "eu-rd-operations": _rd,
    "eu-hp-properties": _hp,
}

EXAMPLES = {
    "eu-low": "16 01 04*",
    "cn-hw": "900-249-08",
    "cn-hw-categories": "HW08",
    "cn-sw": "SW01",
    "household": "HH-R-01",
    "eu-rd-operations": "R13",
    "eu-hp-properties": "HP14",
}


def code_canonical(key: str, raw: str) -> str | None:
    """The canonical form of `raw` in catalog `key`, or None if it has the wrong shape."""
    return CANONICALISERS.get(key, _plain)(str(raw).strip())


def code_display(key: str, code: str, *, is_hazardous: bool = False) -> str:
    if key == "eu-low":
        return f"{code[0:2]} {code[2:4]} {code[4:6]}" + ("*" if is_hazardous else "")
    if key == "eu-hp-properties":
        return "HP POP" if code == "HPPOP" else f"HP {code[2:]}"
    return code


def waste_code_normalise(raw: object, *, field: str = "waste_code") -> tuple[str, str]:
    """Which waste catalog a code belongs to, and its canonical form.

    Accepts `16 01 04*`, `160104`, `16-01-04`, `900-249-08`, `90024908`, `HW08`, `SW01`,
    `HH-R-01` and similar spellings.
    """
    text = str(raw).strip() if isinstance(raw, str | int) else ""
    for key in WASTE_CATALOGS:
        code = code_canonical(key, text) if text else None
        if code:
            return key, code
    examples = ", ".join(EXAMPLES[k] for k in WASTE_CATALOGS)
    shown = repr(raw) if text else _("an empty value")
    raise AppError.field(
        field,
        _("%(shown)s is not a waste code. Expected a code such as %(examples)s.")
        % {"shown": shown, "examples": examples},
        code="invalid_code",
    )


def _code_in_key(key: str, raw: object, field: str) -> str:
    text = str(raw).strip() if isinstance(raw, str | int) else ""
    code = code_canonical(key, text) if text else None
    if code:
        return code
    example = EXAMPLES.get(key)
    hint = " " + _("Expected a code such as %(example)s.") % {"example": example} if example else ""
    raise AppError.field(
        field,
        _("%(raw)s is not a code of catalog %(key)s.%(hint)s") % {"raw": repr(raw), "key": key, "hint": hint},
        code="invalid_code",
    )


def catalog_versions(key: str) -> QuerySet[Catalog]:
    return Catalog.objects.filter(key=key).order_by("effective_from")


def catalog_in_force(*, key: str, on: date) -> Catalog | None:
    return (
        Catalog.objects.filter(key=key, effective_from__lte=on)
        .filter(Q(effective_until__isnull=True) | Q(effective_until__gt=on))
        .order_by("-effective_from")
        .first()
    )


def catalog_entry_lookup(
    *, code: object, on: date, catalog_key: str | None = None, field: str = "waste_code"
) -> CatalogEntry:
    """The entry for `code` in the version of its catalog in force on `on`.

    Refuses (AppError, 400, under `field`) garbage, codes no version knows (`unknown_code`),
    codes only an earlier version knew (`expired_code`) and codes only a later version knows
    (`not_yet_valid`).
    """
    if catalog_key:
        key, canon = catalog_key, _code_in_key(catalog_key, code, field)
    else:
        key, canon = waste_code_normalise(code, field=field)

    catalog = catalog_in_force(key=key, on=on)
    if catalog is not None:
        entry = catalog.entries.filter(code=canon).first()
        if entry is not None:
            return entry

    versions = [
        entry.catalog
        for entry in CatalogEntry.objects.filter(catalog__key=key, code=canon)
        .select_related("catalog")
        .order_by("catalog__effective_from")
    ]
    shown = str(code).strip()
    ended = [c for c in versions if c.effective_until is not None and c.effective_until <= on]
    later = [c for c in versions if c.effective_from > on]
    if ended:
        last = ended[-1]
        msg = _(
            "Code %(shown)s expired: it was valid in %(key)s version %(version)s "
            "from %(start)s until %(end)s, not on %(on)s."
        ) % {
            "shown": shown,
            "key": key,
            "version": last.version,
            "start": last.effective_from.isoformat(),
            "end": last.effective_until.isoformat(),
            "on": on.isoformat(),
        }
        raise AppError.field(field, msg, code="expired_code")
    if later:
        first = later[0]
        msg = _(
            "Code %(shown)s is not yet valid on %(on)s: it enters %(key)s with version %(version)s on %(start)s."
        ) % {
            "shown": shown,
            "on": on.isoformat(),
            "key": key,
            "version": first.version,
            "start": first.effective_from.isoformat(),
        }
        raise AppError.field(field, msg, code="not_yet_valid")

    if catalog is None:
        msg = _("No version of catalog %(key)s is in force on %(on)s; cannot check %(shown)s.") % {
            "key": key,
            "on": on.isoformat(),
            "shown": shown,
        }
        raise AppError.field(field, msg, code="unknown_code")
    msg = _("Unknown code %(shown)s: not in %(key)s version %(version)s.") % {
        "shown": shown,
        "key": key,
        "version": catalog.version,
    }
    if catalog.partial:
        msg += _(
            " That list is knowingly partial; if the code is genuine, import the complete list "
            "with `manage.py import_catalog`."
        )
    raise AppError.field(field, msg, code="unknown_code")


def operation_is_final(code: object, *, on: date | None = None, field: str = "operation") -> bool:
    """False for interim operations (R12, R13, D13-D15): storage, blending or exchange
    before the real fate. The fact is data: `extra["interim"]` in the R/D catalog."""
    entry = catalog_entry_lookup(code=code, on=on or date.today(), catalog_key=OPERATIONS_CATALOG, field=field)
    return not entry.extra.get("interim", False)


# The catalogs a batch's waste code comes from (waste.services.batches.WASTE_CATALOGS).
WASTE_CODE_CATALOGS = ("eu-low", "cn-hw", "cn-sw", "household")


def catalog_entry_q(text: str) -> Q:
    """Entries whose code, displayed code, or name (Chinese, or English kept in ``extra``) contains ``text``."""
    text = text.strip()
    compact = re.sub(r"[\s*]+", "", text)
    q = Q(name__icontains=text) | Q(extra__name_en__icontains=text) | Q(display_code__icontains=text)
    if compact:
        q |= Q(code__icontains=compact)
    return q


def catalog_entry_search(*, text: str, on: date, limit: int = 20) -> list[CatalogEntry]:
    """Waste codes in force on ``on`` matching ``text``: exact codes first, then by catalog and code."""
    if not text.strip():
        return []
    catalogs = [c for key in WASTE_CODE_CATALOGS if (c := catalog_in_force(key=key, on=on)) is not None]
    entries = CatalogEntry.objects.filter(catalog__in=catalogs).filter(catalog_entry_q(text)).select_related("catalog")
    compact = re.sub(r"[\s*]+", "", text).upper()
    ranked = sorted(
        entries.order_by("catalog__key", "code")[: limit * 5],
        key=lambda e: (e.code.upper() != compact, not e.code.upper().startswith(compact), e.catalog.key, e.code),
    )
    return ranked[:limit]
