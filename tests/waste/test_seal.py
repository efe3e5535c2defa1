"""Sealing costs what was added since the last seal, and signs the root a full recomputation gives."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from tests.conftest import tamper
from tests.waste.export_helpers import export_file, history, run_verifier
from waste import verify
from waste.models import LedgerEntry, LedgerFrontier, LedgerHead
from waste.services.ledger import NewEvent, entries_root, ledger_append, ledger_seal

pytestmark = pytest.mark.django_db


def append(city, count: int, tag: str) -> None:
    """``count`` manifest signatures on as many streams, so that they spread over the shards."""
    with transaction.atomic():
        ledger_append(
            events=[
                NewEvent(
                    event_type="signed",
                    organisation=city.generator_org,
                    event_time=timezone.now(),
                    stream=f"{tag}-{i}",
                    user=city.generator,
                    data={"manifest": f"{tag}-{i}", "role": "consignor"},
                )
                for i in range(count)
            ]
        )


def heads() -> dict[int, tuple[int, str]]:
    return {h.shard: (h.seq, h.hash) for h in LedgerHead.objects.all()}


@pytest.fixture
def leaves_hashed(monkeypatch):
    """Counts the entries a seal hashes (the real hashing runs)."""
    counter = {"n": 0}
    real = verify.leaf_digest

    def counting(digest):
        counter["n"] += 1
        return real(digest)

    monkeypatch.setattr(verify, "leaf_digest", counting)
    return counter


def test_it_seals_new_entries_to_the_root_a_full_recomputation_gives(city, leaves_hashed):
    append(city, 300, "first")
    first = ledger_seal()
    append(city, 137, "second")
    leaves_hashed["n"] = 0

    second = ledger_seal()

    assert leaves_hashed["n"] == 137  # only the entries added since the first seal
    assert second.size == first.size + 137 == LedgerEntry.objects.count()
    assert second.entries_tree == verify.TREE
    assert second.entries_root == entries_root(heads()) != first.entries_root
    sealed = dict(LedgerFrontier.objects.values_list("shard", "size"))
    assert {shard: sealed.get(shard, 0) for shard in heads()} == {s: seq for s, (seq, _) in heads().items()}


def test_it_seals_an_unchanged_ledger_without_reading_it(city, leaves_hashed):
    append(city, 20, "once")
    first = ledger_seal()
    leaves_hashed["n"] = 0

    assert ledger_seal().pk == first.pk
    assert leaves_hashed["n"] == 0


def test_it_rebuilds_a_lost_frontier_from_the_entries(city):
    append(city, 50, "before")
    ledger_seal()
    append(city, 30, "after")
    LedgerFrontier.objects.all().delete()

    assert ledger_seal().entries_root == entries_root(heads())


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_seal_over_a_gap_among_the_new_entries(city):
    append(city, 40, "before")
    ledger_seal()
    append(city, 40, "after")
    victim = LedgerEntry.objects.order_by("-id").first()
    tamper("DELETE FROM waste_ledgerentry WHERE id = %s", [victim.pk])

    with pytest.raises(RuntimeError, match=f"shard {victim.shard} has gaps below its head"):
        ledger_seal()


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_it_still_names_an_entry_edited_before_an_incremental_seal(city):
    append(city, 40, "before")
    ledger_seal()
    target = LedgerEntry.objects.order_by("id")[5]
    append(city, 40, "after")
    ledger_seal()
    tamper("UPDATE waste_ledgerentry SET flags = 'forged' WHERE id = %s", [target.pk])

    with pytest.raises(CommandError) as caught:
        call_command("verify_ledger")
    assert f"first bad entry {target.pk} " in str(caught.value)


def test_it_proves_a_sparse_export_sealed_incrementally(city, catalogs, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    append(city, 200, "noise")
    ledger_seal()
    h = history(city)  # the recycler's part of the ledger is a few entries among many
    append(city, 60, "more")

    path = export_file(h.recycler, kind="events", format="csv")

    assert "#zw-node " in path.read_text()
    result = run_verifier(path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_it_verifies_entries_whose_data_holds_backslashes_quotes_and_newlines(city):
    with transaction.atomic():
        ledger_append(
            events=[
                NewEvent(
                    event_type="signed",
                    organisation=city.generator_org,
                    event_time=timezone.now(),
                    stream="odd-text",
                    data={"note": 'C:\\drums\\"7"\nsecond line\ttab 天津'},
                )
            ]
        )
    ledger_seal()

    call_command("verify_ledger")  # raises CommandError on any problem

    tamper("UPDATE waste_ledgerentry SET data = replace(data, 'drums', 'drum') WHERE batch_code = ''")
    with pytest.raises(CommandError, match="edited"):
        call_command("verify_ledger")


def frontier_of_most_entries() -> LedgerFrontier:
    return LedgerFrontier.objects.order_by("-size", "shard").first()


@pytest.mark.django_db(transaction=True)
def test_it_names_a_frontier_edited_after_a_seal(city):
    append(city, 40, "before")
    ledger_seal()
    append(city, 40, "after")
    ledger_seal()
    call_command("verify_ledger")
    frontier = frontier_of_most_entries()
    nodes = [[size, "0" * 64] for size, _ in frontier.nodes]  # same shape, forged digests
    tamper("UPDATE waste_ledgerfrontier SET nodes = %s WHERE shard = %s", [json.dumps(nodes), frontier.shard])

    with pytest.raises(CommandError) as caught:
        call_command("verify_ledger")
    assert "the Merkle frontiers kept for sealing do not give checkpoint 2's signed entries root" in str(caught.value)


@pytest.mark.django_db(transaction=True)
def test_it_names_the_shard_whose_frontier_left_its_sealed_head(city):
    append(city, 40, "before")
    ledger_seal()
    frontier = frontier_of_most_entries()
    tamper("UPDATE waste_ledgerfrontier SET size = size - 1 WHERE shard = %s", [frontier.shard])

    with pytest.raises(CommandError) as caught:
        call_command("verify_ledger")
    assert (
        f"shard {frontier.shard} at seq {frontier.size}: the Merkle frontier kept for sealing does not stand at "
        "checkpoint 1's head"
    ) in str(caught.value)


def test_it_accepts_a_lost_frontier_that_the_next_seal_rebuilds(city):
    append(city, 40, "before")
    ledger_seal()
    LedgerFrontier.objects.all().delete()

    call_command("verify_ledger")  # raises CommandError on any problem
    append(city, 10, "after")
    ledger_seal()
    call_command("verify_ledger")


@pytest.mark.django_db(transaction=True)
def test_it_names_a_checkpoint_whose_entries_root_was_replaced(city):
    append(city, 40, "before")
    checkpoint = ledger_seal()
    tamper("UPDATE waste_ledgercheckpoint SET entries_root = %s WHERE id = %s", ["0" * 64, checkpoint.pk])

    with pytest.raises(CommandError, match="checkpoint 1 has a bad signature over its entries root"):
        call_command("verify_ledger")
