"""The incident lifecycle as data (like waste.lifecycle): which action moves which status where.

``emergency.services.incident_act`` is the only code that changes an incident's status; it looks the
action up here and appends the timeline entry in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from emergency.models import IncidentStatus as S


class IncidentAction(models.TextChoices):
    """Labels are verbs ("Cannot acknowledge an incident that is ...")."""

    ACKNOWLEDGE = "acknowledge", _("acknowledge")
    DISPATCH = "dispatch", _("dispatch a vehicle to")
    CONTAIN = "contain", _("mark as contained")
    CLOSE = "close", _("close")


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str


OPEN = frozenset({S.REPORTED, S.ACKNOWLEDGED, S.DISPATCHED, S.CONTAINED})

TRANSITIONS: dict[str, Transition] = {
    IncidentAction.ACKNOWLEDGE: Transition(frozenset({S.REPORTED}), S.ACKNOWLEDGED),
    # A second vehicle may be sent while the first is on its way.
    IncidentAction.DISPATCH: Transition(frozenset({S.REPORTED, S.ACKNOWLEDGED, S.DISPATCHED}), S.DISPATCHED),
    IncidentAction.CONTAIN: Transition(frozenset({S.ACKNOWLEDGED, S.DISPATCHED}), S.CONTAINED),
    IncidentAction.CLOSE: Transition(frozenset({S.ACKNOWLEDGED, S.DISPATCHED, S.CONTAINED}), S.CLOSED),
}
# Actions a person chooses on the incident page or through the API; dispatch has its own endpoint.
MANUAL_ACTIONS = (IncidentAction.ACKNOWLEDGE, IncidentAction.CONTAIN, IncidentAction.CLOSE)


def allowed_actions(status: str, actions=MANUAL_ACTIONS) -> list[str]:
    return [str(a) for a in actions if status in TRANSITIONS[a].sources]
