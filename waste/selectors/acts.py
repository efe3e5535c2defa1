"""What a lifecycle act needs to be decided, read at once.

``ActContext`` is what waste.services.transitions decides against: the acting user's organisations,
each batch's open manifest line (with the manifest, its destination and its carriers) and the sites
involved. ``act_context`` reads it for any number of batches in a few ORM statements;
``batch_locked_with_context`` reads it for one batch, with the batch locked, in ONE statement on
PostgreSQL: a single scan is the hot path of the product (a city's trucks at their peak), and five
round trips through the ORM cost more CPU and time than the whole of the decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db import DEFAULT_DB_ALIAS, connection

from waste.models import Batch, Manifest, ManifestCarrier, ManifestLine, Membership, Organisation, Site
from waste.selectors.batches import OPEN_MANIFEST, open_manifest_lines


@dataclass
class ActContext:
    orgs: set[int] | None  # the user's organisations it may act for; None: a superuser
    lines: dict[int, ManifestLine]  # batch id -> its open manifest line (drafts too)
    sites: dict[int, Site]
    known_orgs: set[int]  # the organisations named by the acts that the user may act for


def user_acting_orgs(user) -> set[int] | None:
    if user.is_superuser:
        return None
    return set(Membership.objects.filter(user=user).exclude(role="viewer").values_list("organisation_id", flat=True))


def act_context(*, user, batches: list[Batch], needs_lines: list[int], site_ids: set[int], org_ids: set[int]):
    """The context for acts on ``batches`` (locked by the caller, current sites selected with them)."""
    lines = open_manifest_lines(needs_lines) if needs_lines else {}
    # The sites the batches are at, their destinations and the named sites: one statement, one row
    # (and one parsed geometry) per site, however many batches share it.
    wanted = site_ids | {b.current_site_id for b in batches if b.current_site_id is not None}
    wanted |= {line.manifest.to_site_id for line in lines.values()}
    sites = Site.objects.only("id", "name", "location", "organisation_id").in_bulk(wanted) if wanted else {}
    orgs = user_acting_orgs(user)
    # Members are checked against their memberships; only a superuser may name any organisation.
    known = set(Organisation.objects.filter(pk__in=org_ids).values_list("pk", flat=True)) if orgs is None else orgs
    return ActContext(orgs=orgs, lines=lines, sites=sites, known_orgs=known)


_BATCH = [f.column for f in Batch._meta.concrete_fields]
_BATCH_NAMES = [f.attname for f in Batch._meta.concrete_fields]
_LINE = ("id", "manifest_id", "batch_id", "quantity_kg", "received_kg", "refused_kg", "refusal_reason")
_MANIFEST = ("id", "number", "status", "receiver_id", "to_site_id", "created_at", "consignor_signed_at")
_SITE = ("id", "organisation_id", "name")  # and the location, as x and y


def _order(model, names) -> tuple[str, ...]:
    """``names`` in the model's field order, as Model.from_db takes them."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)


_LINE_NAMES = _order(ManifestLine, _LINE)
_MANIFEST_NAMES = _order(Manifest, _MANIFEST)
_SITE_NAMES = _order(Site, _SITE)
_CARRIER_NAMES = _order(ManifestCarrier, ("id", "manifest_id", "organisation_id", "order", "signed_at"))


def _site_sql(alias: str) -> str:
    return ", ".join(f"{alias}.{c}" for c in _SITE_NAMES) + f", ST_X({alias}.location), ST_Y({alias}.location)"


_SITE_WIDTH = len(_SITE_NAMES) + 2

# One statement: the batch locked (FOR UPDATE OF b only: the sites and manifests are read, not
# locked), where it is, its newest open manifest line with the manifest, destination and carriers,
# the named site, the user's organisations (not as a viewer) and whether a named organisation exists.
_SQL = f"""
SELECT {", ".join("b." + c for c in _BATCH)},
  {_site_sql("cs")},
  {", ".join("l." + c for c in _LINE_NAMES)},
  {", ".join("m." + c for c in _MANIFEST_NAMES)},
  {_site_sql("ts")},
  (SELECT array_agg(ARRAY[c.id, c.organisation_id, c."order"] ORDER BY c."order")
     FROM waste_manifestcarrier c WHERE c.manifest_id = m.id),
  (SELECT array_agg(c.signed_at ORDER BY c."order") FROM waste_manifestcarrier c WHERE c.manifest_id = m.id),
  {_site_sql("ns")},
  (SELECT array_agg(ms.organisation_id) FROM waste_membership ms WHERE ms.user_id = %(user)s AND ms.role <> 'viewer'),
  EXISTS (SELECT 1 FROM waste_organisation o WHERE o.id = %(org)s)
FROM waste_batch b
LEFT JOIN waste_site cs ON cs.id = b.current_site_id
LEFT JOIN LATERAL (
  SELECT l.* FROM waste_manifestline l JOIN waste_manifest m ON m.id = l.manifest_id
  WHERE l.batch_id = b.id AND m.status IN ({", ".join(f"'{s}'" for s in OPEN_MANIFEST)})
    AND NOT EXISTS (SELECT 1 FROM waste_manifest c WHERE c.previous_id = m.id)
  ORDER BY m.created_at DESC, m.id DESC LIMIT 1
) l ON true
LEFT JOIN waste_manifest m ON m.id = l.manifest_id
LEFT JOIN waste_site ts ON ts.id = m.to_site_id
LEFT JOIN waste_site ns ON ns.id = %(site)s
WHERE b.code = %(code)s
FOR UPDATE OF b
"""


def batch_locked_with_context(
    *, user, code: str, site_id: int | None, organisation_id: int | None
) -> tuple[Batch | None, ActContext]:
    """The batch with this canonical code, locked, and what an act on it needs: one statement on
    PostgreSQL, as many as ``act_context`` elsewhere. (None, empty context) if there is no such batch."""
    if connection.vendor != "postgresql":
        from waste.selectors.batches import batches_locked

        batch = batches_locked([code]).get(code)
        sites = {site_id} if site_id is not None else set()
        orgs = {organisation_id} if organisation_id is not None else set()
        batches = [batch] if batch is not None else []
        needs = [batch.pk] if batch is not None else []
        return batch, act_context(user=user, batches=batches, needs_lines=needs, site_ids=sites, org_ids=orgs)
    with connection.cursor() as cursor:
        cursor.execute(_SQL, {"user": user.pk, "org": organisation_id, "site": site_id, "code": code})
        row = cursor.fetchone()
    if row is None:
        return None, ActContext(orgs=set(), lines={}, sites={}, known_orgs=set())
    at = len(_BATCH)
    batch = _batch(row[:at])
    sites: dict[int, Site] = {}
    current = _site(row[at : at + _SITE_WIDTH])
    at += _SITE_WIDTH
    if current is not None:
        sites[current.pk] = batch.current_site = current
    line_values = row[at : at + len(_LINE_NAMES)]
    at += len(_LINE_NAMES)
    manifest_values = row[at : at + len(_MANIFEST_NAMES)]
    at += len(_MANIFEST_NAMES)
    to_site = _site(row[at : at + _SITE_WIDTH])
    at += _SITE_WIDTH
    carriers, signed = row[at] or [], row[at + 1] or []
    at += 2
    named = _site(row[at : at + _SITE_WIDTH])
    at += _SITE_WIDTH
    member_of, org_exists = row[at], row[at + 1]
    lines = {}
    if line_values[0] is not None:
        line = ManifestLine.from_db(DEFAULT_DB_ALIAS, _LINE_NAMES, line_values)
        manifest = Manifest.from_db(DEFAULT_DB_ALIAS, _MANIFEST_NAMES, manifest_values)
        manifest.to_site = to_site
        manifest.carrier_rows = [
            ManifestCarrier.from_db(DEFAULT_DB_ALIAS, _CARRIER_NAMES, (pk, manifest.pk, org, order, signed_at))
            for (pk, org, order), signed_at in zip(carriers, signed, strict=True)
        ]
        line.manifest = manifest
        lines[batch.pk] = line
        sites[to_site.pk] = to_site
    if named is not None:
        sites.setdefault(named.pk, named)
    orgs = None if user.is_superuser else set(member_of or ())
    known = ({organisation_id} if org_exists else set()) if orgs is None else orgs
    return batch, ActContext(orgs=orgs, lines=lines, sites=sites, known_orgs=known)


def _batch(values) -> Batch:
    values = list(values)
    for index, field in enumerate(Batch._meta.concrete_fields):
        if hasattr(field, "from_db_value") and values[index] is not None:
            values[index] = field.from_db_value(values[index], None, connection)
    return Batch.from_db(DEFAULT_DB_ALIAS, _BATCH_NAMES, values)


def _site(values) -> Site | None:
    if values[0] is None:
        return None
    *fields, x, y = values
    site = Site.from_db(DEFAULT_DB_ALIAS, _SITE_NAMES, fields)
    site.location = None if x is None else Point(x, y, srid=4326)
    return site
