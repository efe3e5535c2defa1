"""The batch lifecycle as data: which action is allowed from which status, and what it needs and does.

``waste.services.transitions`` is the only code that changes a batch's status or custody; it looks
the action up here and appends the ledger event in the same transaction. Each row says everything
a transition needs, so that code never branches on the action's name:

- ``actor``: who may do it (the holder, a carrier on the manifest, the manifest's receiver);
- ``manifest``: whether it needs the batch's open manifest (and whether it must be signed);
- ``site``: which site the action happens at, and so where a scan must be (custody);
- ``custody``: where the batch is afterwards (at a site, or in a carrier's vehicle);
- ``effect``: what it writes on the manifest (the carrier's signature, received or refused kg).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from waste.models import BatchStatus as S
from waste.models import EventType as E


class Action(models.TextChoices):
    """What can be done to a batch; the labels are verbs ("Cannot pick up a batch that is ...")."""

    STORE_IN = "store_in", _("store in")
    STORE_OUT = "store_out", _("take out of storage")
    PICKUP = "pickup", _("pick up")
    DROPOFF = "dropoff", _("drop off")
    RECEIVE = "receive", _("receive")
    REJECT = "reject", _("reject")
    WEIGH = "weigh", _("weigh")
    CONSOLIDATE = "consolidate", _("consolidate")
    SPLIT = "split", _("split")
    TREAT = "treat", _("treat")
    TREAT_INTERIM = "treat_interim", _("treat (interim operation)")


class Actor(models.TextChoices):
    HOLDER = "holder", _("the organisation holding the batch")
    CARRIER = "carrier", _("a carrier on the batch's manifest")
    RECEIVER = "receiver", _("the manifest's receiver")
    HOLDER_OR_RECEIVER = "holder_or_receiver", _("the holder or the manifest's receiver")


class ManifestRule(models.TextChoices):
    NONE = "none", _("no manifest")
    IF_ANY = "if_any", _("the open manifest, if there is one")
    OPEN = "open", _("an open manifest")
    SIGNED = "signed", _("an open manifest signed by its consignor")


class SiteRule(models.TextChoices):
    HERE = "here", _("where the batch is")
    DESTINATION = "destination", _("the manifest's destination")
    HERE_OR_DESTINATION = "here_or_destination", _("where the batch is, or the manifest's destination")


class Custody(models.TextChoices):
    KEEP = "keep", _("unchanged")
    CARRIER = "carrier", _("in the acting carrier's vehicle")
    SITE = "site", _("at the site, still held by the carrier")
    RECEIVER = "receiver", _("at the site, held by the receiver")


class Effect(models.TextChoices):
    NONE = "none", _("nothing")
    CARRIER_SIGNS = "carrier_signs", _("the carrier signs the manifest, which goes in transit")
    LINE_RECEIVED = "line_received", _("the manifest line records the received weight")
    LINE_REFUSED = "line_refused", _("the manifest line records the refusal")


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the status does not change
    event: str
    actor: str = Actor.HOLDER
    manifest: str = ManifestRule.NONE
    site: str = SiteRule.HERE
    custody: str = Custody.KEEP
    effect: str = Effect.NONE


HELD = frozenset({S.RECEIVED, S.STORED, S.READY})

TRANSITIONS: dict[str, Transition] = {
    Action.STORE_IN: Transition(frozenset({S.GENERATED, S.RECEIVED, S.READY}), S.STORED, E.STORED),
    Action.STORE_OUT: Transition(frozenset({S.STORED}), S.READY, E.RELEASED),
    Action.PICKUP: Transition(
        frozenset({S.GENERATED, S.READY, S.RECEIVED, S.REJECTED, S.IN_TRANSIT}),
        S.IN_TRANSIT,
        E.PICKED_UP,
        actor=Actor.CARRIER,
        manifest=ManifestRule.SIGNED,
        custody=Custody.CARRIER,
        effect=Effect.CARRIER_SIGNS,
    ),
    Action.DROPOFF: Transition(
        frozenset({S.IN_TRANSIT}),
        S.DELIVERED,
        E.DROPPED_OFF,
        manifest=ManifestRule.IF_ANY,
        site=SiteRule.DESTINATION,
        custody=Custody.SITE,
    ),
    Action.RECEIVE: Transition(
        frozenset({S.IN_TRANSIT, S.DELIVERED}),
        S.RECEIVED,
        E.RECEIVED,
        actor=Actor.RECEIVER,
        manifest=ManifestRule.OPEN,
        site=SiteRule.DESTINATION,
        custody=Custody.RECEIVER,
        effect=Effect.LINE_RECEIVED,
    ),
    Action.REJECT: Transition(
        frozenset({S.IN_TRANSIT, S.DELIVERED}),
        S.REJECTED,
        E.REJECTED,
        actor=Actor.RECEIVER,
        manifest=ManifestRule.OPEN,
        site=SiteRule.DESTINATION,
        custody=Custody.SITE,
        effect=Effect.LINE_REFUSED,
    ),
    Action.WEIGH: Transition(
        frozenset({S.GENERATED, S.STORED, S.READY, S.IN_TRANSIT, S.DELIVERED, S.RECEIVED}),
        None,
        E.WEIGHED,
        actor=Actor.HOLDER_OR_RECEIVER,
        manifest=ManifestRule.IF_ANY,
        site=SiteRule.HERE_OR_DESTINATION,
    ),
    Action.CONSOLIDATE: Transition(HELD, S.CONSOLIDATED, E.CONSOLIDATED),
    Action.SPLIT: Transition(frozenset({S.GENERATED, *HELD}), S.SPLIT, E.SPLIT),
    Action.TREAT: Transition(HELD, S.TREATED, E.TREATED),
    Action.TREAT_INTERIM: Transition(HELD, None, E.TREATED),
}

SCAN_ACTIONS = (
    Action.PICKUP,
    Action.DROPOFF,
    Action.RECEIVE,
    Action.WEIGH,
    Action.REJECT,
    Action.STORE_IN,
    Action.STORE_OUT,
)
TERMINAL = frozenset({S.CONSOLIDATED, S.SPLIT, S.TREATED})


def allowed_actions(status: str) -> list[str]:
    return [str(name) for name, t in TRANSITIONS.items() if status in t.sources]
