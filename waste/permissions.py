"""Who may act for an organisation. Services call these; they raise the app error."""

from __future__ import annotations

from django.utils.translation import gettext as _

from waste.errors import AppError
from waste.models import MemberRole, Membership, Organisation


def membership_require(
    *,
    user,
    organisation: Organisation,
    roles: tuple[str, ...] = (),
    write: bool = True,
    admin: bool = False,
    field: str = "organisation",
) -> Membership | None:
    """The user's membership of ``organisation`` if it may act in one of ``roles``.

    ``roles`` are organisation roles (generator, hauler, ...). Superusers pass with ``None``.
    """
    if user.is_superuser:
        return None
    membership = Membership.objects.filter(user=user, organisation=organisation).first()
    if membership is None:
        raise AppError.field(field, _("You are not a member of this organisation."), code="not_member", status=403)
    if write and not membership.can_write:
        raise AppError.field(field, _("Viewers cannot make changes."), code="read_only", status=403)
    if admin and membership.role != MemberRole.ADMIN:
        raise AppError.field(field, _("Only an organisation administrator can do this."), code="not_admin", status=403)
    if roles and not any(organisation.has_role(r) for r in roles):
        wanted = " or ".join(roles)
        raise AppError.field(
            field,
            _("This organisation is not registered as %(wanted)s.") % {"wanted": wanted},
            code="wrong_role",
            status=403,
        )
    return membership
