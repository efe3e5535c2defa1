"""Uncaught errors in a page become the framed 500 page, with DEBUG on as well."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import include, path


def broken(request):
    raise RuntimeError("boom")


urlpatterns = [path("broken/", broken), path("", include("config.urls"))]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True])
def test_it_frames_an_uncaught_error(db, settings, debug):
    settings.DEBUG = debug
    response = Client(raise_request_exception=False).get("/broken/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html and 'class="site-header"' in html and "boom" not in html
