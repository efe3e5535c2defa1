"""The ledger: one entry per action, no edit path, PostgreSQL refusals, tamper detection."""

from __future__ import annotations

import base64
import json

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from tests.conftest import client_for, tamper
from tests.waste.chain_helpers import batch_new, manifest_new, now_iso, permit, point_of, scan
from waste import dbroles, ledger
from waste.models import LedgerCheckpoint, LedgerEntry
from waste.selectors.ledger import ledger_verify
from waste.services.ledger import entry_fields, ledger_seal

pytestmark = pytest.mark.django_db


def entries() -> int:
    return LedgerEntry.objects.count()


@pytest.fixture
def chain(city, catalogs):
    """A few batches moved along the chain, so that several shards hold entries."""
    permit(city.transfer, ["HW08"], ["R13", "R9"])
    generator, hauler = client_for(city.generator), client_for(city.hauler)
    codes = [batch_new(generator, city.generation_site, generated_at=now_iso(-60))["code"] for _ in range(4)]
    manifest_new(
        generator, from_site=city.generation_site, to_site=city.transfer, carriers=[city.hauler_org], codes=codes[:2]
    )
    for code in codes[:2]:
        scan(hauler, code, "pickup", location=point_of(city.generation_site))
    return codes


def verify_fails_naming(entry_id=None, text=None) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("verify_ledger")
    message = str(caught.value)
    if entry_id is not None:
        assert f"first bad entry {entry_id} " in message, message
    if text is not None:
        assert text in message, message
    return message


# --- one entry per action -----------------------------------------------------------------------


def test_it_appends_exactly_one_entry_per_lifecycle_action(city, catalogs):
    permit(city.transfer, ["HW08"], ["R13", "R9"])
    generator, hauler, operator = client_for(city.generator), client_for(city.hauler), client_for(city.operator)
    before = entries()
    code = batch_new(generator, city.generation_site, generated_at=now_iso(-60))["code"]
    assert entries() == before + 1

    number = manifest_new(
        generator,
        from_site=city.generation_site,
        to_site=city.transfer,
        carriers=[city.hauler_org],
        codes=[code],
        sign=False,
    )
    assert entries() == before + 1  # a draft manifest is not an event yet
    actions = [
        lambda: generator.post(f"/api/v1/manifests/{number}/sign/", {"role": "consignor"}, format="json"),
        lambda: scan(hauler, code, "pickup", location=point_of(city.generation_site)),
        lambda: scan(hauler, code, "weigh", weight_kg="100.000"),
        lambda: scan(hauler, code, "dropoff", location=point_of(city.transfer)),
        lambda: scan(operator, code, "receive", site=city.transfer),
        lambda: operator.post(
            f"/api/v1/manifests/{number}/sign/", {"role": "receiver", "decision": "accept"}, format="json"
        ),
        lambda: scan(operator, code, "store_in"),
        lambda: scan(operator, code, "store_out"),
        lambda: operator.post(f"/api/v1/batches/{code}/treat/", {"operation": "R13"}, format="json"),
        lambda: operator.post(f"/api/v1/batches/{code}/treat/", {"operation": "R9"}, format="json"),
    ]
    for step in actions:
        count = entries()
        response = step()
        assert response.status_code in (200, 201), response.json()
        assert entries() == count + 1, response.json()
    types = list(LedgerEntry.objects.filter(batch_code=code).values_list("event_type", flat=True))
    assert types == [
        "generated",
        "picked_up",
        "weighed",
        "dropped_off",
        "received",
        "stored",
        "released",
        "treated",
        "treated",
    ]


def test_it_appends_one_entry_per_batch_for_consolidation_and_split(city, catalogs):
    permit(city.transfer, ["HW08"], ["R13"])
    operator = client_for(city.operator)
    codes = [batch_new(operator, city.transfer, generated_at=now_iso(-60))["code"] for _ in range(3)]
    for code in codes:
        scan(operator, code, "store_in")

    before = entries()
    big = operator.post(
        "/api/v1/batches/consolidate/", {"batches": codes, "site": city.transfer.pk}, format="json"
    ).json()["code"]
    assert entries() == before + 4  # one per origin, one for the new batch

    before = entries()
    operator.post(f"/api/v1/batches/{big}/split/", {"parts": ["100", "200"]}, format="json")
    assert entries() == before + 3


def test_it_appends_nothing_for_a_refused_action(city, catalogs):
    code = batch_new(client_for(city.generator), city.generation_site)["code"]
    before = entries()

    response = scan(client_for(city.generator), code, "dropoff")

    assert response.status_code == 409
    assert entries() == before


# --- verification -------------------------------------------------------------------------------


def test_it_verifies_a_clean_ledger(chain, capsys):
    call_command("seal_ledger")

    call_command("verify_ledger")

    assert f"ledger intact: {entries()} entries verified" in capsys.readouterr().out


def test_it_seals_only_when_the_ledger_grew(chain):
    first = ledger_seal()
    assert ledger_seal().pk == first.pk
    assert first.size == entries()
    assert sum(seq for seq, _ in first.heads.values()) == entries()


# --- no edit path -------------------------------------------------------------------------------


def test_it_refuses_orm_updates_and_deletes(chain):
    entry = LedgerEntry.objects.first()

    with pytest.raises(TypeError):
        LedgerEntry.objects.update(flags="")
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(quantity_kg=1)
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(TypeError):
        entry.delete()
    entry.flags = "forged"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError), transaction.atomic():
        LedgerEntry.objects.bulk_update([entry], ["flags"])
    ledger_seal()
    with pytest.raises(TypeError):
        LedgerCheckpoint.objects.all().delete()
    call_command("verify_ledger")


@pytest.mark.parametrize("model", [LedgerEntry, LedgerCheckpoint])
def test_it_offers_no_add_change_or_delete_in_the_admin(city, model):
    city.generator.is_superuser = city.generator.is_staff = True
    request = RequestFactory().get("/admin/")
    request.user = city.generator

    model_admin = admin.site._registry[model]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)


def test_it_has_no_api_path_that_changes_an_entry(chain, city):
    client = client_for(city.generator)
    detail = client.get(f"/api/v1/batches/{chain[0]}/").json()
    event = detail["events"][0]

    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"/api/v1/batches/{chain[0]}/", {"events": []}, format="json")
        assert response.status_code == 405
    assert client.get(f"/api/v1/batches/{chain[0]}/").json()["events"][0] == event


# --- PostgreSQL: the database refuses too, and tampering is detected ---------------------------


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# The suite connects as the application role (scripts/test.sh sets DATABASE_OWNER_URL): PostgreSQL
# refuses it UPDATE, DELETE and TRUNCATE on the ledger by privilege, and the trigger refuses any role
# that is not the owner even where a grant went wrong. Tampering below is done as the owner, on its
# own connection (tests.conftest.tamper), so those tests commit their data first.
@pytest.mark.postgis
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE waste_ledgerentry SET quantity_kg = 1 WHERE id = %s",
        "DELETE FROM waste_ledgerentry WHERE id = %s",
        "UPDATE waste_ledgercheckpoint SET size = 0 WHERE id > %s",
        "DELETE FROM waste_ledgercheckpoint WHERE id > %s",
        "TRUNCATE waste_ledgerentry CASCADE",
        "TRUNCATE waste_ledgercheckpoint",
    ],
)
def test_it_makes_postgresql_refuse_updates_deletes_and_truncate(chain, sql):
    assert dbroles.two_roles(), "the PostGIS pass must run as the application role: set DATABASE_OWNER_URL"
    ledger_seal()
    before = entries(), LedgerCheckpoint.objects.count()
    target = LedgerEntry.objects.first().pk if "ledgerentry" in sql else 0

    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        raw(sql, [target] if "%s" in sql else [])

    assert (entries(), LedgerCheckpoint.objects.count()) == before
    call_command("verify_ledger")


@pytest.mark.postgis
@pytest.mark.parametrize(
    "sql",
    [
        "SET zerowaste.ledger_maintenance = 'on'",
        "SET session_replication_role = replica",
        "ALTER TABLE waste_ledgerentry DISABLE TRIGGER USER",
        "DROP TRIGGER waste_ledgerentry_append_only ON waste_ledgerentry",
        "GRANT UPDATE ON waste_ledgerentry TO CURRENT_USER",
        "SET ROLE {owner}",
        "ALTER ROLE CURRENT_USER SUPERUSER",
        "CREATE OR REPLACE FUNCTION zw_ledger_append_only() RETURNS trigger"
        " AS 'BEGIN RETURN NEW; END' LANGUAGE plpgsql",
    ],
)
def test_it_gives_the_application_no_way_to_lift_the_guard(chain, settings, sql):
    """Nothing the application role can run in its own session opens the ledger to an UPDATE."""
    assert dbroles.two_roles(), "the PostGIS pass must run as the application role: set DATABASE_OWNER_URL"
    target = LedgerEntry.objects.first()
    try:
        with transaction.atomic():
            raw(sql.format(owner=connection.ops.quote_name(settings.DATABASE_OWNER["USER"])))
            raw("UPDATE waste_ledgerentry SET quantity_kg = 1 WHERE id = %s", [target.pk])
    except DatabaseError as exc:
        assert "permission denied" in str(exc) or "must be" in str(exc), exc
    else:
        pytest.fail(f"{sql!r} let the application role edit the ledger")

    assert LedgerEntry.objects.get(pk=target.pk).quantity_kg == target.quantity_kg


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE waste_ledgerentry SET quantity_kg = 1 WHERE id = %s",
        "DELETE FROM waste_ledgerentry WHERE id = %s",
        "UPDATE waste_ledgercheckpoint SET size = 0 WHERE id > %s",
        "TRUNCATE waste_ledgercheckpoint",
    ],
)
def test_it_keeps_refusing_through_the_trigger_if_a_grant_went_wrong(chain, settings, sql):
    ledger_seal()
    before = entries(), LedgerCheckpoint.objects.count()
    target = LedgerEntry.objects.first().pk if "ledgerentry" in sql else 0
    app = connection.ops.quote_name(settings.DATABASE_APP_ROLE)
    tamper(f"GRANT UPDATE, DELETE, TRUNCATE ON waste_ledgerentry, waste_ledgercheckpoint TO {app}")
    try:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            raw(sql, [target] if "%s" in sql else [])
    finally:
        tamper(f"REVOKE UPDATE, DELETE, TRUNCATE ON waste_ledgerentry, waste_ledgercheckpoint FROM {app}")
    assert (entries(), LedgerCheckpoint.objects.count()) == before


@pytest.mark.postgis
def test_it_connects_the_suite_as_the_application_role_and_migrated_as_the_owner(settings):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, session_user, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        current, session, superuser, createrole = cursor.fetchone()
        cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'waste_ledgerentry'")
        (owner,) = cursor.fetchone()
        cursor.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", [owner])
        (member,) = cursor.fetchone()
    assert current == session == settings.DATABASE_APP_ROLE
    assert (superuser, createrole, member) == (False, False, False)
    assert owner == settings.DATABASE_OWNER["USER"]


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_it_detects_an_edited_entry_and_names_it(chain):
    ledger_seal()
    target = LedgerEntry.objects.filter(quantity_kg__isnull=False).order_by("id")[2]
    tamper("UPDATE waste_ledgerentry SET quantity_kg = quantity_kg + 1 WHERE id = %s", [target.pk])

    message = verify_fails_naming(target.pk, "edited")
    assert f"shard {target.shard}, seq {target.seq}" in message


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_it_detects_the_last_entry_of_a_shard_deleted_after_a_seal(chain):
    ledger_seal()
    last = LedgerEntry.objects.order_by("-shard", "-seq").first()
    tamper("DELETE FROM waste_ledgerentry WHERE id = %s", [last.pk])

    verify_fails_naming(text=f"shard {last.shard} at seq {last.seq}: checkpoint 1 sealed {last.seq} entries")


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_it_detects_a_deleted_entry_in_the_middle_of_a_chain(chain):
    shard = LedgerEntry.objects.filter(seq=2).values_list("shard", flat=True).first()
    first, second = LedgerEntry.objects.filter(shard=shard).order_by("seq")[:2]
    tamper("DELETE FROM waste_ledgerentry WHERE id = %s", [first.pk])

    verify_fails_naming(second.pk, "deleted or inserted")


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_it_detects_two_entries_with_swapped_data(chain):
    a = LedgerEntry.objects.filter(event_type="generated").order_by("id").first()
    b = LedgerEntry.objects.filter(event_type="picked_up").order_by("id").first()
    assert a.data != b.data
    tamper("UPDATE waste_ledgerentry SET data = %s WHERE id = %s", [b.data, a.pk])
    tamper("UPDATE waste_ledgerentry SET data = %s WHERE id = %s", [a.data, b.pk])

    verify_fails_naming(min(a.pk, b.pk), "edited")


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_it_detects_a_chain_rewritten_with_fresh_hashes(chain):
    """An attacker who recomputes the hashes still cannot match the signed checkpoint."""
    ledger_seal()
    tail = LedgerEntry.objects.order_by("-shard", "-seq").first()
    tail.flags = "forged"
    new_hash = ledger.entry_hash(entry_fields(tail))
    tamper("UPDATE waste_ledgerentry SET flags = %s, hash = %s WHERE id = %s", [tail.flags, new_hash, tail.pk])

    verify_fails_naming(text=f"shard {tail.shard} at seq {tail.seq}: differs from checkpoint 1")


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("forgery", ["signature", "key"])
def test_it_detects_a_forged_checkpoint(chain, forgery):
    checkpoint = ledger_seal()
    attacker = ledger.private_key(b"\x07" * 32)
    message = ledger.checkpoint_message(
        size=checkpoint.size, root=checkpoint.root, created_at=ledger.text_time(checkpoint.created_at)
    )
    if forgery == "signature":
        tamper(
            "UPDATE waste_ledgercheckpoint SET signature = %s WHERE id = %s",
            [ledger.sign(attacker, message), checkpoint.pk],
        )
        expected = "bad signature"
    else:
        tamper(
            "UPDATE waste_ledgercheckpoint SET signature = %s, public_key = %s WHERE id = %s",
            [ledger.sign(attacker, message), ledger.public_key_b64(attacker), checkpoint.pk],
        )
        expected = "unknown key"

    verify_fails_naming(text=expected)


# --- pure verification --------------------------------------------------------------------------


def chain_rows(n: int, shard: int = 0, start_id: int = 1):
    rows, prev = [], ledger.GENESIS
    for seq in range(1, n + 1):
        fields = [
            str(shard),
            str(seq),
            prev,
            f"00000000-0000-0000-0000-{seq:012d}",
            "generated",
            "ZW1",
            "1",
            "",
            "",
            "",
            "1.000",
            "2025-01-01T00:00:00.000000Z",
            "2025-01-01T00:00:00.000000Z",
            "",
            json.dumps({"n": seq}),
        ]
        digest = ledger.entry_hash(fields)
        rows.append((start_id + seq - 1, fields, digest))
        prev = digest
    return rows


def test_it_accepts_an_untouched_chain():
    count, problems = ledger.verify_entries(chain_rows(5))
    assert (count, problems) == (5, [])


def test_it_detects_an_inserted_entry():
    rows = chain_rows(4)
    forged = [
        str(0),
        "3",
        rows[1][2],
        "00000000-0000-0000-0000-999999999999",
        "generated",
        "ZW1",
        "1",
        "",
        "",
        "",
        "9.000",
        "2025-01-01T00:00:00.000000Z",
        "2025-01-01T00:00:00.000000Z",
        "",
        "{}",
    ]
    tampered = rows[:2] + [(99, forged, ledger.entry_hash(forged))] + rows[2:]

    count, problems = ledger.verify_entries(tampered)

    assert count == 5
    assert [(p.entry_id, p.seq) for p in problems] == [(3, 3)]
    assert "deleted or inserted" in problems[0].reason


def test_it_detects_an_inserted_entry_renumbering_the_rest():
    rows = chain_rows(4)
    forged = [
        str(0),
        "3",
        rows[1][2],
        "00000000-0000-0000-0000-999999999999",
        "generated",
        "ZW1",
        "1",
        "",
        "",
        "",
        "9.000",
        "2025-01-01T00:00:00.000000Z",
        "2025-01-01T00:00:00.000000Z",
        "",
        "{}",
    ]
    renumbered = [(i, [f[0], str(int(f[1]) + 1), *f[2:]], h) for i, f, h in rows[2:]]
    tampered = rows[:2] + [(99, forged, ledger.entry_hash(forged))] + renumbered

    _, problems = ledger.verify_entries(tampered)

    assert [(p.entry_id, p.reason) for p in problems] == [
        (3, "does not link to the entry before it (deleted, inserted or reordered)")
    ]


def test_it_detects_reordered_entries():
    rows = chain_rows(4)
    swapped = [rows[0], rows[2], rows[1], rows[3]]

    _, problems = ledger.verify_entries(swapped)

    assert problems[0].entry_id == 3


def test_it_keeps_shards_independent():
    rows = chain_rows(3, shard=0) + chain_rows(3, shard=1, start_id=10)
    rows[4] = (rows[4][0], rows[4][1][:10] + ["2.000"] + rows[4][1][11:], rows[4][2])

    count, problems = ledger.verify_entries(rows)

    assert count == 6
    assert [(p.entry_id, p.shard) for p in problems] == [(11, 1)]


def test_it_checks_a_checkpoint_signature_offline():
    rows = chain_rows(3)
    key = ledger.private_key(b"\x01" * 32)
    heads = {0: (3, rows[-1][2])}
    root = ledger.heads_root(heads)
    message = ledger.checkpoint_message(size=3, root=root, created_at="2025-01-01T00:00:00.000000Z")
    checkpoint = {
        "size": 3,
        "root": root,
        "created_at": "2025-01-01T00:00:00.000000Z",
        "heads": {"0": [3, heads[0][1]]},
        "signature": ledger.sign(key, message),
        "public_key": ledger.public_key_b64(key),
    }

    assert ledger.verify_entries(rows, [checkpoint], {checkpoint["public_key"]})[1] == []
    _, problems = ledger.verify_entries(rows[:2], [checkpoint], {checkpoint["public_key"]})
    assert "entries were deleted" in problems[0].reason
    bad = {**checkpoint, "signature": base64.b64encode(b"\x00" * 64).decode()}
    assert "bad signature" in ledger.verify_entries(rows, [bad])[1][0].reason


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_it_verifies_disjoint_shards_in_parallel_streams_and_still_finds_an_edit(city, catalogs):
    permit(city.transfer, ["HW08"], ["R13", "R9"])
    generator, hauler = client_for(city.generator), client_for(city.hauler)
    codes = [batch_new(generator, city.generation_site, generated_at=now_iso(-60))["code"] for _ in range(6)]
    manifest_new(
        generator, from_site=city.generation_site, to_site=city.transfer, carriers=[city.hauler_org], codes=codes
    )
    for code in codes:  # a reason in Chinese: PostgreSQL must hash the same UTF-8 bytes as Python
        assert (
            scan(hauler, code, "pickup", location=point_of(city.generation_site), reason="桶身破损").status_code == 201
        )
    ledger_seal()
    assert len({e.shard for e in LedgerEntry.objects.all()}) > 2

    count, problems = ledger_verify(streams=3)

    assert (count, problems) == (entries(), [])
    target = LedgerEntry.objects.filter(data__contains="破损").order_by("id").last()
    tamper("UPDATE waste_ledgerentry SET data = replace(data, '破损', '完好') WHERE id = %s", [target.pk])
    _, problems = ledger_verify(streams=3)
    assert [(p.entry_id, p.reason) for p in problems] == [(target.pk, "content does not match its hash (edited)")]
