"""Request bodies larger than the product accepts are refused with 413 before anything reads them.

Django itself only limits form and JSON data (DATA_UPLOAD_MAX_MEMORY_SIZE, checked when the body is
read, answered with a bare 400) and does not limit file uploads at all; a reverse proxy's
client_max_body_size is the usual place, but the product is also served by gunicorn alone. So the
declared Content-Length is checked here, once, for every request: the API answers in its error
shape, the pages with a framed page.
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from web.errors import error_page, framed


def body_limit(request) -> int:
    if request.content_type == "multipart/form-data":
        return settings.UPLOAD_MAX_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large(request, status: int, code: str, message: str):
    if framed(request) and status == 400:
        return error_page(request, 400)
    if framed(request):
        response = render(request, "web/frame/413.html", {"status": status, "message": message}, status=status)
        response.framed_error = True
        return response
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            return too_large(request, 400, "invalid_length", _("The Content-Length header is not a number."))
        limit = body_limit(request)
        if length > limit:
            message = _("The request body is %(size)s; at most %(limit)s is accepted.") % {
                "size": filesizeformat(length),
                "limit": filesizeformat(limit),
            }
            return too_large(request, 413, "too_large", message)
        return self.get_response(request)
