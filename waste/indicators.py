"""Zero-waste-city indicators, computed from batches, their lineage and the ledger in SQL.

Definitions (all quantities in kilograms; every figure is reported with its numerator and denominator):

- **Origin batch**: a batch with no parent in the lineage (no ``BatchLink`` leads to it), i.e. one
  created by a ``generated`` ledger event. Batches formed by consolidation or splitting are not new
  waste. Treatment outputs and residues hang below a batch that already has a final fate, so they
  are neither new generation nor followed further.
- **Stream** of an origin batch: ``household`` (catalog ``household``), ``hazardous`` (any other
  hazardous entry, e.g. cn-hw HWxx or an EU ``*`` code) or ``general`` (general industrial: cn-sw
  SWxx and non-hazardous EU codes).
- **Generated** in a period: the declared quantity (``Batch.quantity_kg``, the ``generated`` event)
  of origin batches whose ``generated_at`` falls in the period.
- **Fate flows back through the lineage** (as in ``waste.selectors.batches.batch_trace``, computed
  here with one recursive SQL query): an origin's weight (last weighed, else declared) follows
  consolidation links whole and split links in proportion to the parts, down to the batches that
  are not consolidated or split any further (the leaves). Each leaf gives its share one fate:
    - **utilised**: the leaf's final operation is an R operation (R1–R11; R12/R13 are interim and
      never set ``final_operation``), recorded (``treated`` event) by the end of the period;
    - **disposed**: the final operation is a D operation (D1–D12; D13–D15 are interim);
    - **dumped**: the leaf was picked up and never received: status in transit or delivered and its
      last ``picked_up`` event older than ``VANISHED_AFTER_HOURS`` before the end of the period
      (or now, if earlier);
    - **stored**: anything else: no final fate yet (in storage, at a site, in transit within the
      limit, or treated only after the period).
- **Prior years' stock utilised / disposed**: fates recorded in the period whose origin batch was
  generated before the period began.
- Identity, per stream, over the origins generated in the period:
  ``generated = utilised + disposed + stored + dumped + residual``; the residual is the difference
  between declared and weighed quantities (and any rounding), and is reported, never hidden.

Indicators:
- ``generation_intensity``: industrial (general + hazardous) generated, in tonnes, per 10,000 CNY of
  industrial value added (``IndicatorInput`` named ``industrial_value_added_cny`` for every year the
  period touches, for the organisation, or else the district); missing input → ``null`` with a note.
- ``general_utilisation_rate``: general industrial utilised ÷ (generated + prior years' stock utilised).
- ``hazardous_utilisation_disposal_rate``: hazardous (utilised + disposed) ÷ (generated + prior years'
  stock utilised + prior years' stock disposed).
- ``household_recycling_rate``: household waste given a material-recovery operation (R2–R11; R1,
  energy recovery, is not recycling) ÷ (household generated + prior years' stock so recovered).
- ``harmless_treatment_rate``: household waste given any final R or D operation at a permitted
  plant (a final operation can only be recorded by the site holding the batch) ÷ (household
  generated + prior years' stock so treated). Dumped waste is never harmless.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from waste.errors import AppError, NotFound
from waste.models import Batch, BatchLink, CatalogEntry, IndicatorInput, Jurisdiction, Organisation, Site
from waste.scoping import district_prefix, user_jurisdictions, user_organisation_ids
from waste.selectors.catalogs import waste_code_normalise

VALUE_ADDED = "industrial_value_added_cny"
STREAMS = ("general", "hazardous", "household")
FATES = ("utilised", "disposed", "stored", "dumped")
PARAM = re.compile(r"%\((\w+)\)s|%s")
GROUPS = {
    "": "''",
    "district": "s.district_code",
    "organisation": "b.organisation_id",
    "code": "e.code",
    "site": "b.origin_site_id",
}


@dataclass
class Scope:
    """Which origin batches count. Each part is (sql, params) or None; they are AND-ed."""

    site_ids: tuple[str, list] | None = None  # origin site subquery
    organisation_ids: list[int] | None = None
    entry_ids: tuple[str, list] | None = None
    either: bool = False  # site_ids OR organisation_ids instead of AND (a user's own + jurisdiction)
    districts: list[str] = field(default_factory=list)  # for value-added inputs
    organisation_id: int | None = None  # for value-added inputs


def _subquery(queryset) -> tuple[str, list]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def scope_for(
    *,
    sites=None,
    organisations: list[int] | None = None,
    entries=None,
    either=False,
    districts=(),
    organisation_id=None,
) -> Scope:
    return Scope(
        site_ids=_subquery(sites.values("pk")) if sites is not None else None,
        organisation_ids=organisations,
        entry_ids=_subquery(entries.values("pk")) if entries is not None else None,
        either=either,
        districts=list(districts),
        organisation_id=organisation_id,
    )


def _held(user) -> list[Jurisdiction]:
    return list(Jurisdiction.objects.filter(organisation__is_regulator=True, organisation__memberships__user=user))


def _jurisdiction_sites(jurisdictions) -> object:
    q = Q(pk__in=[])
    for j in jurisdictions:
        q |= Q(location__intersects=j.area) | Q(district_code__startswith=district_prefix(j.district_code))
    return Site.objects.filter(q)


def indicator_scope(
    *, user, district: str | None = None, organisation: int | None = None, code: str | None = None
) -> Scope:
    """What ``user`` may see, narrowed by the filters. Refuses what lies outside it (403/404/400)."""
    entries = None
    if code:
        key, canonical = waste_code_normalise(code, field="code")
        # A category (HW08, in its own catalog) stands for every code filed under it.
        entries = CatalogEntry.objects.filter(Q(catalog__key=key, code=canonical) | Q(parent_code=canonical))
        if not entries.exists():
            raise AppError.field(
                "code",
                _("No waste code or category %(code)s in the catalogs.") % {"code": repr(code)},
                code="unknown_code",
            )
    superuser = user.is_superuser
    held = [] if superuser else _held(user)
    prefixes = [p for _, p in user_jurisdictions(user)] if not superuser else [""]
    sites, organisations, either, districts = None, None, False, []
    if district:
        if not (district.isdigit() and len(district) == 6):
            raise AppError.field("district", _("A district is a 6-digit GB/T 2260 code, e.g. 120110."))
        if not any(district_prefix(district).startswith(p) for p in prefixes):
            raise AppError.field(
                "district", _("This district is not in your jurisdiction."), code="not_your_district", status=403
            )
        exact = [j for j in held if j.district_code == district]
        sites = _jurisdiction_sites(exact) | Site.objects.filter(district_code__startswith=district_prefix(district))
        districts = [district]
    if organisation is not None:
        org = Organisation.objects.filter(pk=organisation).first()
        if org is None:
            raise NotFound.field("organisation", _("No such organisation."), code="unknown_organisation")
        member = superuser or org.pk in user_organisation_ids(user)
        if not member:
            if not held or not _jurisdiction_sites(held).filter(organisation=org).exists():
                raise AppError.field(
                    "organisation", _("This enterprise is outside your scope."), code="out_of_scope", status=403
                )
            sites = sites if sites is not None else _jurisdiction_sites(held)
        organisations = [org.pk]
    elif district is None and not superuser:
        organisations = user_organisation_ids(user)
        if held:
            sites, either = _jurisdiction_sites(held), True
            districts = [j.district_code for j in held]
    return scope_for(
        sites=sites,
        organisations=organisations,
        entries=entries,
        either=either,
        districts=districts,
        organisation_id=organisation,
    )


def _where(scope: Scope) -> tuple[str, list]:
    parts, params = [], []
    owner = []
    if scope.site_ids is not None:
        owner.append((f"b.origin_site_id IN ({scope.site_ids[0]})", scope.site_ids[1]))
    if scope.organisation_ids is not None:
        ids = ",".join(str(int(i)) for i in scope.organisation_ids) or "NULL"
        owner.append((f"b.organisation_id IN ({ids})", []))
    if owner and scope.either:
        parts.append("(" + " OR ".join(sql for sql, _ in owner) + ")")
        params += [p for _, ps in owner for p in ps]
    else:
        for sql, ps in owner:
            parts.append(sql)
            params += ps
    if scope.entry_ids is not None:
        parts.append(f"b.waste_id IN ({scope.entry_ids[0]})")
        params += scope.entry_ids[1]
    return (" AND ".join(parts) or "1=1"), params


def _dt(value: datetime.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _sql(group: str, where: str) -> str:
    t = {m: m._meta.db_table for m in (Batch, BatchLink, Site, CatalogEntry)}
    ledger = "waste_ledgerentry"
    catalog = "waste_catalog"
    key = GROUPS[group]
    fate_select = """SELECT l.grp, l.stream, l.cohort,
       CASE WHEN l.op <> '' AND l.fated_at <= %(end)s THEN l.op
            WHEN l.picked_at IS NOT NULL AND l.picked_at < %(vanished)s THEN 'dumped'
            ELSE 'stored' END AS fate,
       CASE WHEN l.op <> '' AND l.fated_at >= %(start)s AND l.fated_at <= %(end)s THEN 1 ELSE 0 END AS in_period,
       SUM(l.frac * l.weight)
FROM {leaves} l
GROUP BY 1, 2, 3, 4, 5"""
    # A link's share of its parent: all of it (consolidation), or its part of the parts (split).
    share = f"""CAST(CASE WHEN l.kind = 'consolidation' THEN 1 ELSE
           CAST(l.quantity_kg AS DOUBLE PRECISION) / (SELECT CAST(SUM(x.quantity_kg) AS DOUBLE PRECISION)
               FROM {t[BatchLink]} x WHERE x.parent_id = l.parent_id AND x.kind = 'split') END AS DOUBLE PRECISION)"""
    return f"""
WITH RECURSIVE roots AS (
    SELECT b.id AS id, CAST({key} AS VARCHAR(40)) AS grp,
           CASE WHEN c.key = 'household' THEN 'household' WHEN b.is_hazardous THEN 'hazardous'
                ELSE 'general' END AS stream,
           CASE WHEN b.generated_at >= %(start)s THEN 1 ELSE 0 END AS cohort,
           b.quantity_kg AS declared, CAST(COALESCE(b.last_weight_kg, b.quantity_kg) AS DOUBLE PRECISION) AS weight,
           b.status AS status, b.final_operation AS op
    FROM {t[Batch]} b
    JOIN {t[Site]} s ON s.id = b.origin_site_id
    JOIN {t[CatalogEntry]} e ON e.id = b.waste_id
    JOIN {catalog} c ON c.id = e.catalog_id
    WHERE b.generated_at <= %(end)s AND {where}
      AND NOT EXISTS (SELECT 1 FROM {t[BatchLink]} pl WHERE pl.child_id = b.id)
),
-- The batches each origin's weight reaches through consolidation and split links (the origin itself,
-- at fraction 1, is taken straight from roots below), carrying the origin's group, stream and weight.
walk(grp, stream, cohort, weight, batch_id, frac) AS (
    SELECT r.grp, r.stream, r.cohort, r.weight, l.child_id, {share}
    FROM roots r JOIN {t[BatchLink]} l ON l.parent_id = r.id AND l.kind IN ('consolidation', 'split')
    UNION ALL
    SELECT w.grp, w.stream, w.cohort, w.weight, l.child_id, CAST(w.frac * {share} AS DOUBLE PRECISION)
    FROM walk w JOIN {t[BatchLink]} l ON l.parent_id = w.batch_id AND l.kind IN ('consolidation', 'split')
),
times AS (
    SELECT t.batch_id, MAX(CASE WHEN t.event_type = 'treated' THEN t.event_time END) AS treated_at,
           MAX(CASE WHEN t.event_type = 'picked_up' THEN t.event_time END) AS picked_at
    FROM {ledger} t WHERE t.event_type IN ('treated', 'picked_up') AND t.batch_id IS NOT NULL
    GROUP BY t.batch_id
),
-- A leaf's fate (see the module docstring). Origins that are their own leaf (almost all) and leaves
-- reached through the lineage are aggregated apart: with the lineage's row estimates (a recursive CTE's
-- are guesses) PostgreSQL would otherwise sort every leaf instead of hashing. Rows with the same key
-- are summed by the caller.
self_leaves AS (
    SELECT r.grp, r.stream, r.cohort, r.weight, CAST(1 AS DOUBLE PRECISION) AS frac, r.op,
           CASE WHEN r.op <> '' THEN tm.treated_at END AS fated_at,
           CASE WHEN r.status IN ('in_transit', 'delivered') THEN tm.picked_at END AS picked_at
    FROM roots r LEFT JOIN times tm ON tm.batch_id = r.id
    WHERE r.status NOT IN ('consolidated', 'split')
),
walk_leaves AS (
    SELECT w.grp, w.stream, w.cohort, w.weight, w.frac, lb.final_operation AS op,
           CASE WHEN lb.final_operation <> '' THEN tm.treated_at END AS fated_at,
           CASE WHEN lb.status IN ('in_transit', 'delivered') THEN tm.picked_at END AS picked_at
    FROM walk w JOIN {t[Batch]} lb ON lb.id = w.batch_id
    LEFT JOIN times tm ON tm.batch_id = lb.id
    WHERE lb.status NOT IN ('consolidated', 'split')
)
{fate_select.format(leaves="self_leaves")}
UNION ALL
{fate_select.format(leaves="walk_leaves")}
UNION ALL
SELECT r.grp, r.stream, r.cohort, 'generated', 0, SUM(CAST(r.declared AS DOUBLE PRECISION))
FROM roots r WHERE r.cohort = 1 GROUP BY 1, 2, 3
"""


@dataclass
class Flows:
    """Per stream: generated, cohort fates, and fates recorded in the period by kind of operation."""

    generated: dict = field(default_factory=lambda: defaultdict(float))
    cohort: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    # stream -> operation -> [from this period's origins, from prior years' stock]
    ops: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(lambda: [0.0, 0.0])))

    def add(self, stream: str, cohort: int, fate: str, in_period: int, kg: float) -> None:
        if fate == "generated":
            self.generated[stream] += kg
            return
        kind = "utilised" if fate[0] == "R" else "disposed" if fate[0] == "D" else fate
        if cohort:
            self.cohort[stream][kind] += kg
        if kind in ("utilised", "disposed") and in_period:
            self.ops[stream][fate][0 if cohort else 1] += kg

    @classmethod
    def sum(cls, parts) -> Flows:
        total = cls()
        for part in parts:
            for stream, kg in part.generated.items():
                total.generated[stream] += kg
            for stream, fates in part.cohort.items():
                for fate, kg in fates.items():
                    total.cohort[stream][fate] += kg
            for stream, ops in part.ops.items():
                for op, (this, prior) in ops.items():
                    total.ops[stream][op][0] += this
                    total.ops[stream][op][1] += prior
        return total

    def fated(self, stream: str, accept) -> tuple[float, float]:
        """(this period's origins, prior stock) given an operation accepted by ``accept``."""
        rows = [v for op, v in self.ops[stream].items() if accept(op)]
        return sum(r[0] for r in rows), sum(r[1] for r in rows)


def flows_query(*, scope: Scope, start: datetime.datetime, end: datetime.datetime, group: str = "") -> dict:
    """{group key: Flows} in one SQL statement."""
    as_of = min(end, timezone.now())
    vanished = as_of - datetime.timedelta(hours=settings.VANISHED_AFTER_HOURS)
    where, where_params = _where(scope)
    # Named and positional parameters cannot be mixed: expand the named ones in order.
    sql = _sql(group, where)
    named = {"start": _dt(start), "end": _dt(end), "vanished": _dt(vanished)}
    where_iter = iter(where_params)
    params = [named[m.group(1)] if m.group(1) else next(where_iter) for m in PARAM.finditer(sql)]
    out: dict = defaultdict(Flows)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The recursive walk's row estimates are far too high, so PostgreSQL would JIT-compile the
            # plan: about a second of compiling for a statement that runs in a fraction of that;
            # and with the default 4 MB the hash joins and aggregates over a year's batches spill to disk.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(PARAM.sub("%s", sql), params)
        for grp, stream, cohort, fate, in_period, kg in cursor.fetchall():
            out["" if grp is None else str(grp)].add(stream, int(cohort), fate, int(in_period), float(kg or 0))
    return out


def _t(kg: float) -> float:
    return round(kg / 1000, 3)


def _rate(numerator: float, denominator: float, definition: str, **parts) -> dict:
    return {
        "value": round(numerator / denominator, 4) if denominator else None,
        "numerator_kg": round(numerator, 3),
        "denominator_kg": round(denominator, 3),
        "definition": definition,
        **({"note": _("Nothing generated or treated in the period: no rate.")} if not denominator else {}),
        **{k: round(v, 3) for k, v in parts.items()},
    }


def value_added(*, scope: Scope, start: datetime.date, end: datetime.date) -> tuple[Decimal | None, str]:
    """Industrial value added (CNY) for every year the period touches, or None and why not."""
    total, missing = Decimal(0), []
    for year in range(start.year, end.year + 1):
        inputs = IndicatorInput.objects.filter(year=year, name=VALUE_ADDED)
        if scope.organisation_id is not None:
            inputs = inputs.filter(organisation_id=scope.organisation_id)
        elif scope.districts:
            inputs = [_district_inputs(inputs.filter(organisation__isnull=True), code) for code in scope.districts]
            inputs = [i for rows in inputs for i in rows]
        else:
            inputs = []
        values = [i.value for i in inputs]
        if not values:
            missing.append(str(year))
        total += sum(values, Decimal(0))
    if missing:
        return None, _("No industrial value added (IndicatorInput '%(name)s') for %(years)s.") % {
            "name": VALUE_ADDED,
            "years": ", ".join(missing),
        }
    if total <= 0:
        return None, _("Industrial value added is zero.")
    return total, ""


def _district_inputs(inputs, code: str) -> list:
    """The district's own figure if given, else the sum of the figures of the districts inside it."""
    exact = [i for i in inputs if i.district_code == code]
    if exact:
        return exact
    prefix = district_prefix(code)
    return [i for i in inputs if i.district_code.startswith(prefix)]


def indicators_compute(*, scope: Scope, date_from: datetime.date, date_to: datetime.date, group: str = "") -> dict:
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(date_to, datetime.time.max, tzinfo=tz)
    flows = flows_query(scope=scope, start=start, end=end, group=group)
    # Every origin batch falls in exactly one group, so the whole is the sum of the groups.
    total = Flows.sum(flows.values()) if group else flows[""]
    result = {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "as_of": min(end, timezone.now()).isoformat(),
        **indicators_of(total, scope=scope, date_from=date_from, date_to=date_to),
    }
    if group:
        result["group"] = group
        result["groups"] = [
            {"key": key, **indicators_of(f, scope=None, date_from=date_from, date_to=date_to)}
            for key, f in sorted(flows.items())
        ]
    return result


def indicators_of(f: Flows, *, scope: Scope | None, date_from, date_to) -> dict:
    def is_r(op):
        return op.startswith("R")

    def is_d(op):
        return op.startswith("D")

    def is_recycling(op):
        return op.startswith("R") and op != "R1"

    def is_any(op):
        return True

    g_u, g_u_prior = f.fated("general", is_r)
    h_u, h_u_prior = f.fated("hazardous", is_r)
    h_d, h_d_prior = f.fated("hazardous", is_d)
    hh_r, hh_r_prior = f.fated("household", is_recycling)
    hh_h, hh_h_prior = f.fated("household", is_any)
    industrial = f.generated["general"] + f.generated["hazardous"]
    intensity: dict = {
        "value": None,
        "unit": _("t per 10,000 CNY"),
        "numerator_t": _t(industrial),
        "definition": _("industrial solid waste generated (t) ÷ industrial value added (10,000 CNY)"),
    }
    if scope is not None:
        va, note = value_added(scope=scope, start=date_from, end=date_to)
        intensity["denominator_10k_cny"] = float(va / 10000) if va is not None else None
        if va is not None:
            intensity["value"] = round(industrial / 1000 / float(va / 10000), 6)
        else:
            intensity["note"] = note
    else:
        intensity["note"] = _("Value added is an input for the whole scope; not broken down by group.")
    indicators = {
        "generation_intensity": intensity,
        "general_utilisation_rate": _rate(
            g_u + g_u_prior,
            f.generated["general"] + g_u_prior,
            _("general industrial utilised ÷ (generated + prior years' stock utilised)"),
            prior_stock_utilised_kg=g_u_prior,
        ),
        "hazardous_utilisation_disposal_rate": _rate(
            h_u + h_u_prior + h_d + h_d_prior,
            f.generated["hazardous"] + h_u_prior + h_d_prior,
            _("hazardous (utilised + disposed) ÷ (generated + prior years' stock utilised and disposed)"),
            prior_stock_kg=h_u_prior + h_d_prior,
        ),
        "household_recycling_rate": _rate(
            hh_r + hh_r_prior,
            f.generated["household"] + hh_r_prior,
            _("household waste recovered as materials (R2–R11) ÷ (generated + prior stock so recovered)"),
            prior_stock_kg=hh_r_prior,
        ),
        "harmless_treatment_rate": _rate(
            hh_h + hh_h_prior,
            f.generated["household"] + hh_h_prior,
            _("household waste given a final R or D operation ÷ (generated + prior stock so treated)"),
            prior_stock_kg=hh_h_prior,
        ),
    }
    balance = {}
    for stream in STREAMS:
        generated = f.generated[stream]
        parts = {fate: round(f.cohort[stream][fate], 3) for fate in FATES}
        residual = generated - sum(f.cohort[stream][fate] for fate in FATES)
        balance[stream] = {
            "generated_kg": round(generated, 3),
            **{f"{k}_kg": v for k, v in parts.items()},
            "residual_kg": round(residual, 3),
        }
    return {"indicators": indicators, "balance": balance}
