"""The frame: login and logout, landing by role, the acting-organisation picker, shared job progress."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from waste.selectors.exports import export_get
from waste.services.exports import export_link_token
from web.acting import acting_organisation, acting_organisation_set, landing_url_name
from web.components import job_progress
from web.forms.frame import LoginForm


class LoginView(auth_views.LoginView):
    template_name = "web/frame/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("web:home")


class LogoutView(auth_views.LogoutView):
    next_page = "web:login"


def home(request):
    if not request.user.is_authenticated:
        return redirect("web:login")
    return redirect(landing_url_name(acting_organisation(request)))


@login_required
def no_organisation(request):
    return render(request, "web/frame/no_organisation.html")


@require_POST
@login_required
def acting_org_choose(request):
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        organisation_id = 0
    if not acting_organisation_set(request, organisation_id=organisation_id):
        messages.error(request, _("You are not a member of that organisation."))
        return redirect("web:home")
    org = acting_organisation(request)
    messages.success(request, _("You now act for %(name)s.") % {"name": org.name})
    return redirect(landing_url_name(org))


def export_job_progress(job):
    """A JobProgress for a waste ExportJob: polls ``web:export-progress``; when done, links the file."""
    result_url = ""
    if job.status == "done":
        result_url = reverse("export-download", kwargs={"pk": job.pk}) + f"?token={export_link_token(job=job)}"
    return job_progress(
        job,
        poll_url=reverse("web:export-progress", kwargs={"pk": job.pk}),
        result_url=result_url,
        result_label=_("Download the file"),
    )


@login_required
def export_progress(request, pk):
    """The progress partial of one export job, polled by htmx until it is done."""
    job = export_get(user=request.user, export_id=pk)  # NotFound → framed 404
    return render(request, "web/components/job_progress.html", {"job": export_job_progress(job)})


def safe_next(request, fallback: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, {request.get_host()}, require_https=request.is_secure()):
        return candidate
    return fallback


urlpatterns = [
    path("", home, name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("acting-organisation/", acting_org_choose, name="acting-org"),
    path("no-organisation/", no_organisation, name="no-organisation"),
    path("exports/<uuid:pk>/progress/", export_progress, name="export-progress"),
]
