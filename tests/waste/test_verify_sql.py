"""verify_ledger on PostgreSQL checks every entry in SQL and must find, and name, exactly what the
entry-by-entry check in Python finds (waste.ledger.verify_entries over the same rows)."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.conftest import client_for, tamper
from tests.waste.chain_helpers import batch_new, manifest_new, now_iso, permit, point_of, scan
from waste import ledger
from waste.models import LedgerEntry
from waste.selectors.ledger import checkpoint_dicts, ledger_rows, ledger_verify
from waste.services.ledger import ledger_seal

pytestmark = [pytest.mark.postgis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sealed(city, catalogs):
    """Batches picked up with a reason in Chinese, sealed, then more entries after the seal."""
    permit(city.transfer, ["HW08"], ["R13", "R9"])
    generator, hauler = client_for(city.generator), client_for(city.hauler)
    codes = [batch_new(generator, city.generation_site, generated_at=now_iso(-60))["code"] for _ in range(6)]
    manifest_new(
        generator, from_site=city.generation_site, to_site=city.transfer, carriers=[city.hauler_org], codes=codes
    )
    for code in codes[:4]:
        assert (
            scan(hauler, code, "pickup", location=point_of(city.generation_site), reason="桶身破损").status_code == 201
        )
    ledger_seal()
    for code in codes[4:]:
        assert (
            scan(hauler, code, "pickup", location=point_of(city.generation_site), reason="桶身破损").status_code == 201
        )
    return codes


def in_python() -> list[str]:
    """The reference: every entry rendered by PostgreSQL, hashed and chained in Python."""
    trusted = {ledger.public_key_b64(ledger.private_key(settings.LEDGER_SIGNING_KEY))}
    _, problems = ledger.verify_entries(ledger_rows(), checkpoint_dicts(), trusted)
    return [str(p) for p in problems]


def in_sql(streams: int) -> list[str]:
    count, problems = ledger_verify(streams=streams)
    assert count == LedgerEntry.objects.count()
    return [str(p) for p in problems]


def long_shard() -> list[LedgerEntry]:
    shard = LedgerEntry.objects.filter(seq=2).values_list("shard", flat=True).order_by("shard").first()
    return list(LedgerEntry.objects.filter(shard=shard).order_by("seq"))


def edit_chinese():
    target = LedgerEntry.objects.filter(data__contains="破损").order_by("id").first()
    tamper("UPDATE waste_ledgerentry SET data = replace(data, '破损', '完好') WHERE id = %s", [target.pk])
    return target, "content does not match its hash (edited)"


def delete_middle():
    first, second = long_shard()[:2]
    tamper("DELETE FROM waste_ledgerentry WHERE id = %s", [first.pk])
    return second, "sequence jumps from 0 to 2: an entry was deleted or inserted"


def reorder():
    first, second = long_shard()[:2]
    tamper("UPDATE waste_ledgerentry SET seq = -1 WHERE id = %s", [first.pk])
    tamper("UPDATE waste_ledgerentry SET seq = %s WHERE id = %s", [first.seq, second.pk])
    tamper("UPDATE waste_ledgerentry SET seq = %s WHERE id = %s", [second.seq, first.pk])
    second.seq = first.seq  # where it now sits
    return second, "does not link to the entry before it (deleted, inserted or reordered)"


def alter_hash():
    first, second = long_shard()[:2]
    tamper("UPDATE waste_ledgerentry SET hash = %s WHERE id = %s", ["f" * 64, second.pk])
    return second, "content does not match its hash (edited)"


def delete_sealed_tail():
    """The last sealed entry of a shard and everything after it: the chain left is whole, but short."""
    checkpoint = checkpoint_dicts()[-1]
    shard, (seq, _) = next((int(s), v) for s, v in sorted(checkpoint["heads"].items()) if v[0] > 0)
    tamper("DELETE FROM waste_ledgerentry WHERE shard = %s AND seq >= %s", [shard, seq])
    return None, f"shard {shard} at seq {seq}: checkpoint 1 sealed {seq} entries, only {seq - 1} remain"


def alter_checkpoint_heads():
    checkpoint = checkpoint_dicts()[-1]
    shard = next(s for s, v in sorted(checkpoint["heads"].items()) if v[0] > 0)
    tamper("UPDATE waste_ledgercheckpoint SET heads = jsonb_set(heads, %s, '999')", [[shard, "0"]])
    return None, "checkpoint 1 has a bad signature or root"


@pytest.mark.parametrize("streams", [1, 2, 3])
@pytest.mark.parametrize(
    "tampering", [edit_chinese, delete_middle, reorder, alter_hash, delete_sealed_tail, alter_checkpoint_heads]
)
def test_it_names_in_sql_what_the_entry_by_entry_check_names(sealed, tampering, streams):
    assert in_sql(streams) == [] == in_python()

    entry, reason = tampering()

    found = in_sql(streams)
    assert found == in_python()
    assert len(found) == 1, found
    if entry is not None:
        assert found[0] == f"entry {entry.pk} (shard {entry.shard}, seq {entry.seq}): {reason}"
    else:
        assert reason in found[0]
