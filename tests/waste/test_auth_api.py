"""Token auth: hashed, revocable Bearer tokens; failed logins locked out; session auth for the browsable API."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework.test import APIClient

from tests.conftest import client_for

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/me/"
PASSWORD = "correct horse battery"  # tests.factories.UserFactory


def login(username: str, password: str = PASSWORD):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_it_issues_a_token_for_the_right_password(city):
    response = login("generator")

    assert response.status_code == 200
    assert set(response.json()) >= {"token"}
    assert len(response.json()["token"]) >= 32


def test_it_accepts_the_bearer_token_on_me(city):
    token = login("generator").json()["token"]

    response = bearer(token).get(ME_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "generator"
    assert body["organisations"] == [
        {"id": city.generator_org.id, "name": city.generator_org.name, "roles": ["generator"], "member_role": "admin"}
    ]


def test_it_stores_tokens_hashed(city):
    token = login("generator").json()["token"]

    stored = AuthToken.objects.get(user=city.generator)

    values = [str(getattr(stored, f.attname)) for f in AuthToken._meta.concrete_fields]
    assert token not in values
    assert stored.digest and stored.digest != token
    assert token.startswith(stored.token_key)  # only the lookup prefix is kept in clear


def test_it_rejects_a_revoked_token(city):
    token = login("generator").json()["token"]
    client = bearer(token)

    revoked = client.post("/api/v1/auth/token/revoke/")
    after = client.get(ME_URL)

    assert revoked.status_code == 204
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "not_authenticated"


def test_it_revokes_every_token_of_the_user(city):
    first, second = login("generator").json()["token"], login("generator").json()["token"]

    bearer(first).post("/api/v1/auth/token/revoke-all/")

    assert bearer(second).get(ME_URL).status_code == 401
    assert not AuthToken.objects.filter(user=city.generator).exists()


def test_it_rejects_a_garbage_token(city):
    response = bearer("not-a-token").get(ME_URL)

    assert response.status_code == 401
    assert set(response.json()) == {"error"}


def test_it_rejects_a_wrong_password_in_the_error_shape(city):
    response = login("generator", "wrong password")

    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "invalid_credentials", "message": "Wrong username or password.", "fields": {}}
    }


def test_it_rejects_an_unknown_user_like_a_wrong_password(city):
    response = login("nobody", "whatever")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_it_rejects_a_login_without_password(city):
    response = APIClient().post(TOKEN_URL, {"username": "generator"}, format="json")

    assert response.status_code == 400
    assert "password" in response.json()["error"]["fields"]


def test_it_rejects_an_inactive_user(city):
    city.generator.is_active = False
    city.generator.save()

    response = login("generator")

    assert response.status_code == 401


def test_it_locks_a_username_out_after_five_failures(city):
    for _ in range(5):
        assert login("generator", "wrong password").status_code in (401, 429)

    response = login("generator")  # the right password, sixth attempt

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert not AuthToken.objects.filter(user=city.generator).exists()


def test_it_allows_four_failures_before_a_success(city):
    for _ in range(4):
        assert login("generator", "wrong password").status_code == 401

    assert login("generator").status_code == 200


def test_it_locks_out_only_the_attacked_username(city):
    for _ in range(6):
        login("generator", "wrong password")

    assert login("hauler").status_code == 200


def test_it_accepts_session_auth_for_the_browsable_api(city):
    client = APIClient()
    client.force_login(city.generator)  # axes' backend needs a request; force_login skips it

    response = client.get(ME_URL, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b"generator" in response.content


def test_it_accepts_a_password_login_for_the_admin_and_browsable_api(city):
    city.generator.is_staff = True
    city.generator.save()
    client = APIClient()
    logged_in = client.post("/admin/login/", {"username": "generator", "password": PASSWORD}, format="multipart")

    response = client.get(ME_URL)

    assert logged_in.status_code == 302
    assert response.status_code == 200
    assert response.json()["username"] == "generator"


@pytest.mark.parametrize("url", ["/api/v1/me/", "/api/v1/sites/", "/api/v1/organisations/"])
def test_it_rejects_anonymous_requests(db, url):
    response = APIClient().get(url)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_it_lists_every_organisation_of_a_member(city):
    from waste.models import Membership

    Membership.objects.create(user=city.generator, organisation=city.hauler_org, role="viewer")

    response = client_for(city.generator).get(ME_URL)

    orgs = {o["name"]: o for o in response.json()["organisations"]}
    assert set(orgs) == {city.generator_org.name, city.hauler_org.name}
    assert orgs[city.hauler_org.name]["roles"] == ["hauler"]
    assert orgs[city.hauler_org.name]["member_role"] == "viewer"


# The token cache needs a cache every process shares (Redis, REDIS_URL); the PostGIS pass has one.
@pytest.mark.postgis
def test_it_reads_a_token_used_again_from_the_cache_without_a_query(city):
    client = bearer(login("generator").json()["token"])
    assert client.get(ME_URL).status_code == 200

    with CaptureQueriesContext(connection) as captured:
        response = client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["username"] == "generator"
    assert not [q["sql"] for q in captured.captured_queries if "knox_authtoken" in q["sql"] or "auth_user" in q["sql"]]


def test_it_rejects_a_cached_token_at_once_after_revoke_all_from_another_token(city):
    first, second = login("generator").json()["token"], login("generator").json()["token"]
    assert bearer(second).get(ME_URL).status_code == 200  # now cached

    bearer(first).post("/api/v1/auth/token/revoke-all/")

    assert bearer(second).get(ME_URL).status_code == 401


def test_it_rejects_a_cached_token_at_once_when_its_user_is_deactivated(city):
    client = bearer(login("generator").json()["token"])
    assert client.get(ME_URL).status_code == 200  # now cached

    city.generator.is_active = False
    city.generator.save()

    assert client.get(ME_URL).status_code == 401


def test_it_rejects_a_cached_token_at_once_when_it_is_deleted_in_the_admin(city):
    token = login("generator").json()["token"]
    client = bearer(token)
    assert client.get(ME_URL).status_code == 200  # now cached

    AuthToken.objects.filter(user=city.generator).delete()

    assert client.get(ME_URL).status_code == 401


# --- expiry, revocation of writes, the lockout's cool-off --------------------------------------------


def test_it_gives_a_token_the_configured_lifetime_and_refuses_it_once_expired(city, settings):
    from datetime import timedelta

    from django.utils import timezone

    token = login("generator").json()["token"]
    stored = AuthToken.objects.get(user=city.generator)
    lifetime = stored.expiry - timezone.now()
    assert timedelta(days=29) < lifetime <= timedelta(days=30)  # TOKEN_TTL_HOURS, 30 days by default

    AuthToken.objects.filter(pk=stored.pk).update(expiry=timezone.now() - timedelta(seconds=1))  # time passed
    response = bearer(token).get(ME_URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not AuthToken.objects.filter(pk=stored.pk).exists()  # an expired token is removed on sight


def test_it_writes_nothing_with_a_revoked_or_expired_token(city, catalogs):
    from datetime import timedelta

    from django.utils import timezone

    from waste.models import Batch

    revoked, expired = login("generator").json()["token"], login("generator").json()["token"]
    bearer(revoked).post("/api/v1/auth/token/revoke/")
    AuthToken.objects.filter(token_key=expired[: CONSTANTS.TOKEN_KEY_LENGTH]).update(
        expiry=timezone.now() - timedelta(seconds=1)
    )
    body = {"waste_code": "900-249-08", "quantity_kg": "10", "site": city.generation_site.pk}

    statuses = [bearer(token).post("/api/v1/batches/", body, format="json").status_code for token in (revoked, expired)]

    assert statuses == [401, 401]
    assert not Batch.objects.exists()


def test_it_lifts_the_lockout_after_the_cool_off_and_not_before(city, settings):
    from axes.models import AccessAttempt
    from django.utils import timezone

    for _ in range(5):
        login("generator", "wrong password")
    assert login("generator").status_code == 429
    cool_off = settings.AXES_COOLOFF_TIME

    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off + timezone.timedelta(minutes=1))
    still = login("generator")
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - timezone.timedelta(minutes=1))
    lifted = login("generator")

    assert still.status_code == 429
    assert lifted.status_code == 200
    assert AuthToken.objects.filter(user=city.generator).count() == 1
