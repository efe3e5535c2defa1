"""The frame with Django's test client: login, landing by role, acting organisation, framed errors, CSP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from tests.factories import MembershipFactory
from tests.web.conftest import PASSWORD
from waste.models import ExportJob

pytestmark = pytest.mark.django_db

LANDINGS = {
    "generator": "web:enterprise-batches",
    "operator": "web:site-incoming",
    "recycler": "web:recycler-home",
    "hauler": "web:dispatch-home",
    "regulator": "web:regulator-dashboard",
}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_sends_anonymous_visitors_to_the_login_page():
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"] == reverse("web:login")


@pytest.mark.parametrize("persona", list(LANDINGS))
def test_it_lands_each_role_on_its_own_page_after_login(city, persona):
    user = getattr(city, persona)
    client = Client()
    response = client.post(reverse("web:login"), {"username": user.username, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(LANDINGS[persona])
    assert response.status_code == 200


def test_it_says_the_password_is_wrong_in_chinese_and_keeps_the_username(city):
    response = Client().post(
        reverse("web:login"),
        {"username": "generator", "password": "nope"},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "用户名或密码错误" in html
    assert re.search(r'<input[^>]*name="username"[^>]*value="generator"', html)
    assert "_auth_user_id" not in Client().session


def test_it_sends_an_expired_session_back_to_login_with_next(city):
    url = reverse("web:enterprise-batches")
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('web:login')}?next={url}"


def test_it_tells_htmx_to_reload_on_the_login_page_when_the_session_expired(city):
    response = Client().get(reverse("web:enterprise-batches"), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith(reverse("web:login"))


def test_it_locks_logins_out_after_repeated_wrong_passwords(city, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        client.post(reverse("web:login"), {"username": "generator", "password": "wrong"})
    response = client.post(reverse("web:login"), {"username": "generator", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_refuses_a_page_of_another_role_with_a_framed_403(city):
    response = logged_in(city.generator).get(reverse("web:site-incoming"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Access denied" in html and 'class="site-header"' in html


@pytest.mark.parametrize("debug", [False, True])
def test_it_frames_a_404_also_with_debug_on(city, settings, debug):
    settings.DEBUG = debug
    response = logged_in(city.generator).get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'class="site-header"' in html


def test_it_frames_another_users_export_as_404(city):
    job = ExportJob.objects.create(
        requested_by=city.outsider, kind="hj1259", format="csv", date_from="2026-01-01", date_to="2026-01-31"
    )
    response = logged_in(city.generator).get(reverse("web:export-progress", kwargs={"pk": job.pk}))
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_it_polls_a_running_export_and_links_the_finished_one(city):
    job = ExportJob.objects.create(
        requested_by=city.generator,
        kind="hj1259",
        format="csv",
        date_from="2026-01-01",
        date_to="2026-01-31",
        status="running",
        progress=40,
    )
    client = logged_in(city.generator)
    url = reverse("web:export-progress", kwargs={"pk": job.pk})
    running = client.get(url).content.decode()
    assert f'hx-get="{url}"' in running and 'value="40"' in running
    ExportJob.objects.filter(pk=job.pk).update(status="done", progress=100)
    done = client.get(url).content.decode()
    assert "hx-get" not in done
    assert re.search(rf'href="/api/v1/exports/{job.pk}/download/\?token=[^"]+"', done)


def test_it_lets_a_member_of_two_organisations_choose_which_one_to_act_for(city):
    MembershipFactory(user=city.generator, organisation=city.operator_org)
    client = logged_in(city.generator)
    response = client.post(reverse("web:acting-org"), {"organisation": city.operator_org.pk})
    assert response["Location"] == reverse("web:site-incoming")
    assert client.get(reverse("web:site-incoming")).status_code == 200
    assert client.get(reverse("web:enterprise-batches")).status_code == 403


def test_it_refuses_to_act_for_an_organisation_the_user_is_not_in(city):
    client = logged_in(city.generator)
    client.post(reverse("web:acting-org"), {"organisation": city.outsider_org.pk})
    assert client.session.get("acting_org_id") is None
    assert client.get("/", follow=True).redirect_chain[-1][0] == reverse("web:enterprise-batches")


def test_it_shows_a_user_without_organisation_what_to_do(db):
    from tests.factories import UserFactory

    response = logged_in(UserFactory()).get("/", follow=True)
    assert "Ask your organisation" in response.content.decode()


def test_it_switches_the_language_and_remembers_it(city):
    client = logged_in(city.generator)
    page = reverse("web:enterprise-batches")
    client.post(reverse("set_language"), {"language": "zh-hans", "next": page})
    assert "批次台账" in client.get(page).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": page})
    assert "Batch log" in client.get(page).content.decode()


def test_it_sends_a_content_security_policy_that_allows_only_this_origin(city):
    response = logged_in(city.generator).get(reverse("web:enterprise-batches"))
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert "blob:" not in policy["worker-src"]


def test_it_serves_the_vendored_libraries_with_their_licences():
    for folder, script in [
        ("alpinejs-csp", "cdn.min.js"),
        ("maplibre-gl", "maplibre-gl-csp.js"),
        ("maplibre-gl", "maplibre-gl-csp-worker.js"),
        ("echarts", "echarts.min.js"),
    ]:
        path = finders.find(f"vendor/{folder}/{script}")
        assert path, f"{folder}/{script} is not vendored"
        assert any(p.name.upper().startswith("LICENSE") for p in Path(path).parent.iterdir())
    assert finders.find("django_htmx/htmx-2.min.js")


def test_it_paginates_and_keeps_the_filters(rf):
    from web.components import paginate

    request = rf.get("/x/", {"status": "open", "page": "3"})
    page = paginate(request, list(range(60)), per_page=25)
    assert list(page.object_list) == list(range(50, 60))
    assert page.querystring_base == "status=open"
    assert paginate(rf.get("/x/", {"page": "junk"}), list(range(60))).number == 1


def untranslated(po_text: str) -> list[str]:
    """msgids whose msgstr (or every msgstr[n]) is empty, or only a fuzzy guess (compilemessages skips
    those); the header entry and obsolete ones aside."""
    missing = []
    for entry in po_text.split("\n\n"):
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in entry.splitlines())
        lines = [line for line in entry.strip().splitlines() if not line.startswith("#")]
        if not lines or not lines[0].startswith("msgid"):
            continue
        msgid = "".join(re.findall(r'^(?:msgid )?"(.*)"$', "\n".join(lines[: _first(lines, "msgstr")]), re.M))
        msgstr = "".join(
            re.findall(r'^(?:msgstr(?:\[\d\])? )?"(.*)"$', "\n".join(lines[_first(lines, "msgstr") :]), re.M)
        )
        if msgid and (fuzzy or not msgstr):
            missing.append(msgid)
    return missing


def _first(lines, prefix):
    return next(i for i, line in enumerate(lines) if line.startswith(prefix))


def test_it_finds_untranslated_messages():
    po = 'msgid ""\nmsgstr "Language: zh_Hans"\n\nmsgid "A"\nmsgstr ""\n\nmsgid ""\n"Long"\nmsgstr ""\n\n'
    po += 'msgid "P"\nmsgid_plural "Ps"\nmsgstr[0] ""\n\nmsgid "B"\nmsgstr "乙"\n\n#, fuzzy\nmsgid "F"\nmsgstr "猜"\n'
    assert untranslated(po) == ["A", "Long", "P", "F"]


def test_it_has_a_chinese_translation_for_every_web_message():
    locale = Path(__file__).resolve().parents[2] / "web/locale/zh_Hans/LC_MESSAGES"
    for po in locale.glob("*.po"):
        assert untranslated(po.read_text()) == [], f"untranslated messages in {po.name}"


def test_it_renders_a_paginated_table_with_links_that_keep_the_filters(rf):
    from django.template.loader import render_to_string

    from web.components import paginate

    request = rf.get("/x/", {"status": "open", "page": "2"})
    page = paginate(request, [[f"row-{i}"] for i in range(60)], per_page=25)
    html = render_to_string(
        "web/components/table.html",
        {"page": page, "columns": ["Name"], "row_template": "web/components/cells_row.html", "id": "rows"},
        request=request,
    )
    assert "<td>row-25</td>" in html and "row-24<" not in html
    assert "Page 2 of 3 (60 items)" in html
    assert 'href="?status=open&amp;page=1"' in html and 'href="?status=open&amp;page=3"' in html
    assert 'hx-target="#rows"' in html


def test_it_marks_only_the_current_section_in_the_navigation(city):
    html = logged_in(city.generator).get(reverse("web:enterprise-manifests")).content.decode()
    nav = html[html.index('<nav class="role-nav"') :]
    nav = nav[: nav.index("</nav>")]
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', nav) == [reverse("web:enterprise-manifests")]


@pytest.mark.parametrize(
    "username, landing",
    [
        ("enterprise", "web:enterprise-batches"),
        ("station", "web:site-incoming"),
        ("recycler", "web:recycler-home"),
        ("hauler", "web:dispatch-home"),
        ("regulator", "web:regulator-dashboard"),
    ],
)
def test_it_lands_each_demo_user_on_a_working_page_in_chinese(db, settings, username, landing):
    import io

    from django.core.management import call_command

    from waste.demo import DEMO_PASSWORD

    settings.LANGUAGE_CODE = "zh-hans"  # the demo city's default, with no Accept-Language
    call_command("seed_demo", stdout=io.StringIO())
    client = Client()
    response = client.post(reverse("web:login"), {"username": username, "password": DEMO_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(landing)
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()
