from django.conf import settings
from django.urls import reverse

from web.acting import acting_membership, memberships
from web.navigation import NAVIGATION


def frame(request):
    """What base.html needs: the acting organisation, the user's other ones, the role navigation."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"web_nav": [], "web_memberships": [], "web_acting": None}
    acting = acting_membership(request)
    org = acting.organisation if acting else None
    nav = []
    for role, url_name, label in NAVIGATION:
        if org is not None and org.has_role(role):
            nav.append({"url": reverse(url_name), "label": label, "active": False})
    # The current entry is the one with the longest URL the path starts with (/enterprise/manifests/
    # is Manifests, not Batches at /enterprise/).
    matching = [item for item in nav if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return {
        "web_nav": nav,
        "web_memberships": memberships(request),
        "web_acting": acting,
        "MAP_STYLE_URL": settings.MAP_STYLE_URL,
    }
