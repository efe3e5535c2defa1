"""The batch lifecycle as data: which action is allowed from which status, and what it leads to.

``batch_transition`` in waste.services.batches is the only code that changes a batch's status; it
looks the action up here and appends the ledger event in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from waste.models import BatchStatus as S
from waste.models import EventType as E


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the status does not change
    event: str
    actor: str  # who may do it: holder, carrier, receiver (see waste.services.batches.ACTORS)


TRANSITIONS: dict[str, Transition] = {
    "store_in": Transition(frozenset({S.GENERATED, S.RECEIVED, S.READY}), S.STORED, E.STORED, "holder"),
    "store_out": Transition(frozenset({S.STORED}), S.READY, E.RELEASED, "holder"),
    "pickup": Transition(
        frozenset({S.GENERATED, S.READY, S.RECEIVED, S.REJECTED, S.IN_TRANSIT}), S.IN_TRANSIT, E.PICKED_UP, "carrier"
    ),
    "dropoff": Transition(frozenset({S.IN_TRANSIT}), S.DELIVERED, E.DROPPED_OFF, "holder"),
    "receive": Transition(frozenset({S.IN_TRANSIT, S.DELIVERED}), S.RECEIVED, E.RECEIVED, "receiver"),
    "reject": Transition(frozenset({S.IN_TRANSIT, S.DELIVERED}), S.REJECTED, E.REJECTED, "receiver"),
    "weigh": Transition(
        frozenset({S.GENERATED, S.STORED, S.READY, S.IN_TRANSIT, S.DELIVERED, S.RECEIVED}),
        None,
        E.WEIGHED,
        "holder_or_receiver",
    ),
    "consolidate": Transition(frozenset({S.RECEIVED, S.STORED, S.READY}), S.CONSOLIDATED, E.CONSOLIDATED, "holder"),
    "split": Transition(frozenset({S.GENERATED, S.RECEIVED, S.STORED, S.READY}), S.SPLIT, E.SPLIT, "holder"),
    "treat": Transition(frozenset({S.RECEIVED, S.STORED, S.READY}), S.TREATED, E.TREATED, "holder"),
    "treat_interim": Transition(frozenset({S.RECEIVED, S.STORED, S.READY}), None, E.TREATED, "holder"),
}

SCAN_ACTIONS = ("pickup", "dropoff", "receive", "weigh", "reject", "store_in", "store_out")
TERMINAL = frozenset({S.CONSOLIDATED, S.SPLIT, S.TREATED})


def allowed_actions(status: str) -> list[str]:
    return [name for name, t in TRANSITIONS.items() if status in t.sources]
