"""Roadside control: a short-lived signed link to one manifest, opened by an inspector without login.

The link carries the manifest number signed with Django's TimestampSigner (``signing.dumps``), so
nothing is stored and nothing can be guessed; it is read back within ROADSIDE_LINK_SECONDS (30 min).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext as _

from waste.errors import AppError, NotFound
from waste.models import Manifest
from waste.selectors.manifests import manifest_current

SALT = "zerowaste.roadside"


class LinkExpired(AppError):
    status = 410


def roadside_token(manifest: Manifest) -> tuple[str, datetime.datetime]:
    """(token, valid until) for the manifest's current version."""
    token = signing.dumps({"n": manifest.number}, salt=SALT, compress=True)
    return token, timezone.now() + datetime.timedelta(seconds=settings.ROADSIDE_LINK_SECONDS)


def roadside_manifest(token: str) -> Manifest:
    """The manifest a valid link names; a clear refusal for an expired or altered link."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.ROADSIDE_LINK_SECONDS)
    except signing.SignatureExpired as exc:
        raise LinkExpired(
            _(
                "This control link has expired: links are valid for 30 minutes. "
                "Ask the driver to show the QR code again."
            ),
            code="expired",
        ) from exc
    except signing.BadSignature as exc:
        raise AppError(
            _("This control link is not valid: it was altered or did not come from this system."), code="bad_link"
        ) from exc
    try:
        return manifest_current(str(data["n"]))
    except (KeyError, TypeError, NotFound) as exc:
        raise NotFound(_("No manifest with this number."), code="unknown_manifest") from exc
