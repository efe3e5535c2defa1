"""Chinese first, English beside it: for documents every reader shares (labels, exports, e-mails),
whatever the language of the request that made them."""

from __future__ import annotations

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext

CHINESE, ENGLISH = "zh-hans", "en"


def in_language(language: str, text: str | Promise, params: dict | None = None) -> str:
    """``text`` (a msgid or a lazy string) translated into ``language``, with ``params`` applied."""
    with translation.override(language):
        out = str(text) if isinstance(text, Promise) else gettext(text)
        return out % params if params else out


def both(text: str | Promise, params: dict | None = None, sep: str = " / ") -> str:
    """Both languages, Chinese first: ``中文 / English`` (just one when they are the same)."""
    zh, en = in_language(CHINESE, text, params), in_language(ENGLISH, text, params)
    return zh if zh == en else f"{zh}{sep}{en}"
