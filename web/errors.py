"""403/404/500 in the product's frame, also with DEBUG on (the demo runs with DEBUG=true).

Django's handler403/404/500 (set in config/urls.py to the views below) only apply with DEBUG off;
``FramedErrorsMiddleware`` does the same whatever DEBUG says for the pages people use: anything not under the API,
the admin, static files or the public QR page. An exception in such a view becomes a framed page,
after the signal Django sends for uncaught exceptions (so logging and the test client still see it).
A database that is gone for a moment gives every page, framed or not, a bare 503 with Retry-After
(``database_unavailable``), as the API does in its own shape.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core import signals
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, HttpResponseServerError
from django.shortcuts import render, resolve_url
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from waste.api.errors import DATABASE_RETRY_AFTER
from waste.errors import AppError, Forbidden, NotFound

logger = logging.getLogger("web")

NOT_FRAMED = ("/api/", "/admin/", "/static/", "/t/", "/m/", "/jsi18n/")


def framed(request) -> bool:
    return not request.path.startswith(NOT_FRAMED)


def error_page(request, status: int):
    response = render(request, f"web/frame/{status}.html", status=status)
    response.framed_error = True
    return response


def page_not_found(request, exception=None):
    return error_page(request, 404)


def permission_denied(request, exception=None):
    return error_page(request, 403)


def database_unavailable(request):
    """The database is gone for a moment (a restart, a failover): 503 with Retry-After, as the API
    answers, on a page that needs no database (the frame reads the user and the acting organisation),
    in the request's language. Rendered without the request: context processors read the database."""
    page = render_to_string("web/frame/503.html", {"retry_after": DATABASE_RETRY_AFTER, "path": request.path})
    response = HttpResponse(page, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    response.framed_error = True
    return response


def server_error(request):
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):  # raised outside a view
        return database_unavailable(request)
    try:
        return error_page(request, 500)
    except Exception:  # the frame itself failed (e.g. the database is down): a bare page, still translated
        logger.exception("the framed 500 page failed")
        return HttpResponseServerError(f"<h1>500</h1><p>{_('Something went wrong')}</p>")


def csrf_failure(request, reason=""):
    return error_page(request, 403)


def lockout(request, original_response=None, credentials=None):
    """django-axes: too many failed logins (AXES_LOCKOUT_CALLABLE); the API answers in its own shape."""
    response = render(request, "web/frame/locked.html", status=429)
    response.framed_error = True
    return response


class FramedErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code in (403, 404)
            and framed(request)
            and not getattr(response, "framed_error", False)
            and "text/html" in response.get("Content-Type", "")
            and not getattr(request, "_web_error_rendered", False)
        ):
            # Django's technical 404 (no URL matched) or a 403 rendered before any view ran.
            return error_page(request, response.status_code)
        if response.status_code in (301, 302) and getattr(request, "htmx", False):
            location = response.get("Location", "")
            if location.startswith(resolve_url(settings.LOGIN_URL)):
                # The session expired during an htmx request: reload the whole page on the login form.
                response = HttpResponse(status=204)
                response["HX-Redirect"] = location
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError) and not request.path.startswith("/api/"):
            logger.warning("database unavailable for %s: %s", request.path, exception)
            return database_unavailable(request)  # every page, framed or not (the API answers its own 503)
        if not framed(request):
            return None
        request._web_error_rendered = True
        if isinstance(exception, Http404 | NotFound):
            return error_page(request, 404)
        if isinstance(exception, PermissionDenied | Forbidden):
            return error_page(request, 403)
        if isinstance(exception, AppError):
            # A refusal a view did not place beside a form field: show its message in the frame.
            response = render(request, "web/frame/400.html", {"error": exception}, status=exception.status)
            response.framed_error = True
            return response
        logger.exception("error in %s", request.path, exc_info=exception)
        signals.got_request_exception.send(sender=None, request=request)
        return server_error(request)
