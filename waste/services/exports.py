"""Export jobs: request (deduplicated), run (seal, project, write, prove), and expiring download links.

Every export, small or large, is a job run by Celery: one code path. The file is written under
MEDIA_ROOT/exports/ as the rows stream from the database; progress is stored every PROGRESS_EVERY rows.
"""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import date, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from waste.errors import AppError, Forbidden, NotFound
from waste.exports import proofs, tables, writers
from waste.models import ExportJob, JobStatus, Jurisdiction, LedgerCheckpoint, Organisation
from waste.scoping import user_jurisdictions, user_organisation_ids
from waste.services.jobs import JobLease, job_claim, job_holding, lease_lost, outbox_enqueue
from waste.services.ledger import ledger_seal

log = logging.getLogger(__name__)

PROGRESS_EVERY = 5000
EXPORT_TASK = "waste.tasks.export_run_task"
MAX_DAYS = 3 * 366
LINK_SALT = "waste.export-download"
LINK_MAX_AGE = int(getattr(settings, "EXPORT_LINK_SECONDS", 24 * 3600))


def export_dir():
    path = settings.MEDIA_ROOT / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- Who may export what ---------------------------------------------------------------------------


def _regulator_covers(user, organisation: Organisation) -> bool:
    """A regulator covers an organisation with a site (or its seat) inside one of its jurisdictions."""
    from waste.scoping import visible_to

    return visible_to(Organisation.objects.filter(pk=organisation.pk), user).exists()


def export_scope_check(*, user, kind: str, organisation: Organisation | None) -> Organisation | None:
    """The organisation whose ledger is exported (None: the user's jurisdiction), or a refusal."""
    own = user_organisation_ids(user)
    if organisation is None:
        if user_jurisdictions(user) or user.is_superuser:
            if kind == "hj1259":
                raise AppError.field(
                    "organisation",
                    _("HJ 1259 tables are per enterprise: name the organisation."),
                    code="organisation_required",
                )
            return None
        if len(own) != 1:
            raise AppError.field(
                "organisation", _("You belong to several organisations: name one."), code="organisation_required"
            )
        return Organisation.objects.get(pk=own[0])
    if user.is_superuser or organisation.pk in own:
        return organisation
    if user_jurisdictions(user) and _regulator_covers(user, organisation):
        return organisation
    raise Forbidden.field(
        "organisation",
        _(
            "You may export only your own organisation's ledger, "
            "or, as a regulator, organisations in your jurisdiction."
        ),
        code="forbidden",
    )


def _fingerprint(*, user, kind, format, date_from, date_to, organisation) -> str:
    parts = [
        str(user.pk),
        kind,
        format,
        date_from.isoformat(),
        date_to.isoformat(),
        str(organisation.pk if organisation else ""),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def export_request(
    *, user, kind: str, format: str, date_from: date, date_to: date, organisation: Organisation | None = None
) -> ExportJob:
    """A queued job for this request, or the one already queued or running for the same request."""
    if date_to < date_from:
        raise AppError.field("to", _("Is before 'from'."), code="bad_period")
    if (date_to - date_from).days > MAX_DAYS:
        raise AppError.field(
            "to", _("A period spans at most %(max_days)s days.") % {"max_days": MAX_DAYS}, code="bad_period"
        )
    if date_from > timezone.localdate():
        raise AppError.field("from", _("Is in the future."), code="bad_period")
    organisation = export_scope_check(user=user, kind=kind, organisation=organisation)
    fingerprint = _fingerprint(
        user=user, kind=kind, format=format, date_from=date_from, date_to=date_to, organisation=organisation
    )
    for _attempt in range(3):
        running = ExportJob.objects.filter(
            fingerprint=fingerprint, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
        ).first()
        if running is not None and not lease_lost(running):
            return running
        if running is not None:  # its worker is gone: fail it here, and answer with a new job
            ExportJob.objects.filter(pk=running.pk, status=JobStatus.RUNNING, attempt=running.attempt).update(
                status=JobStatus.FAILED, leased_until=None, error="its worker was lost", finished_at=timezone.now()
            )
            continue
        try:
            with transaction.atomic():
                job = ExportJob.objects.create(
                    requested_by=user,
                    organisation=organisation,
                    kind=kind,
                    format=format,
                    date_from=date_from,
                    date_to=date_to,
                    fingerprint=fingerprint,
                )
                outbox_enqueue(task=EXPORT_TASK, args=[str(job.pk)])
        except IntegrityError:  # the same request, at the same moment: the other one won
            continue
        return job
    raise AppError(_("The same export is being requested repeatedly; try again."), code="busy", status=409)


# --- Running ---------------------------------------------------------------------------------------


def _scope(job: ExportJob) -> tables.Scope:
    if job.organisation_id is not None:
        return tables.Scope(organisation=job.organisation, areas=[])
    user = job.requested_by
    if user.is_superuser and not user_jurisdictions(user):
        areas = list(Jurisdiction.objects.values_list("area", flat=True))
    else:
        areas = [area for area, _ in user_jurisdictions(user)]
    return tables.Scope(organisation=None, areas=areas)


class Run:
    """The state of one export while its rows stream: numbering, digest, coverage, progress."""

    def __init__(self, job: ExportJob, checkpoint: LedgerCheckpoint, total: int, lease: JobLease | None) -> None:
        self.job, self.checkpoint, self.total, self.lease = job, checkpoint, max(total, 1), lease
        self.coverage = proofs.Coverage(checkpoint)
        self.digest = proofs.RowDigest()
        self.count = 0

    def progress(self, count: int) -> None:
        if count % PROGRESS_EVERY == 0:
            percent = min(99, count * 100 // self.total)
            if self.lease is not None:
                self.lease.renew(progress=percent, rows=count)
            else:
                ExportJob.objects.filter(pk=self.job.pk).update(progress=percent, rows=count)

    def rows(self, source):
        for table, entry, values in source:
            if not self.coverage.covers(entry.shard, entry.seq):
                continue  # appended after the seal: the next export will hold it
            self.coverage.add(entry.shard, entry.seq)
            self.count += 1
            values = [str(self.count), *values]
            self.digest.add(values)
            self.progress(self.count)
            yield table, entry, values

    def finish(self, columns: list[str]):
        return proofs.export_proof(
            job=self.job, columns=columns, rows=self.count, rows_digest=self.digest.hexdigest(), coverage=self.coverage
        )


def export_write(*, job: ExportJob, path, checkpoint: LedgerCheckpoint, lease: JobLease | None = None) -> int:
    """Writes the export file; returns the number of rows. The same job and checkpoint always give
    the same bytes, however often (and by whichever worker) it runs."""
    columns = tables.columns_for(job.kind)
    scope = _scope(job)
    if job.kind == "events" and job.format == "csv" and connection.vendor == "postgresql":
        from waste.exports.copy import copy_events_csv

        return copy_events_csv(job=job, path=path, checkpoint=checkpoint, scope=scope, columns=columns)
    total = tables.events_queryset(scope, job.date_from, job.date_to).count() if job.kind == "events" else 0
    run = Run(job, checkpoint, total, lease)
    source = tables.rows(job.kind, scope, job.date_from, job.date_to)
    writer = writers.WRITERS[job.format]
    # HJ 1259 exports always hold all five tables, empty ones included.
    kwargs: dict = {"tables": tuple(tables.HJ1259_TABLES) if job.kind == "hj1259" else ()}
    if job.format == "pdf":
        kwargs["title"] = f"{writers.TITLES.get(job.kind, job.kind)} {job.date_from} – {job.date_to}"
    writer(path, columns, run.rows(source), lambda: run.finish(columns), **kwargs)
    return run.count


def export_run(*, job_id) -> ExportJob | None:
    """Claims a queued job (compare-and-set with a lease, so a redelivered task does nothing) and runs
    it. Its outcome is written only while this attempt still holds the job: after a lost lease the
    sweep has queued it again, and the new attempt's file stands."""
    attempt = job_claim(ExportJob, job_id)
    if attempt is None:
        return None
    job = ExportJob.objects.select_related("organisation", "requested_by").get(pk=job_id)
    path = export_dir() / f"{job.pk}.{writers.EXTENSIONS[job.format]}"
    partial = path.with_suffix(f"{path.suffix}.{attempt}.part")
    with JobLease(ExportJob, job.pk, attempt) as lease:
        try:
            checkpoint = ledger_seal()
            rows = export_write(job=job, path=partial, checkpoint=checkpoint, lease=lease)
        except Exception as exc:
            log.exception("export %s failed", job.pk)
            partial.unlink(missing_ok=True)
            job_holding(ExportJob, job.pk, attempt).update(
                status=JobStatus.FAILED, leased_until=None, error=str(exc)[:2000], finished_at=timezone.now()
            )
            raise
        sha = hashlib.sha256()
        with open(partial, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                sha.update(block)
        now = timezone.now()
        with transaction.atomic():
            held = job_holding(ExportJob, job.pk, attempt).update(
                status=JobStatus.DONE,
                leased_until=None,
                progress=100,
                rows=rows,
                file=str(path.relative_to(settings.MEDIA_ROOT)),
                sha256=sha.hexdigest(),
                finished_at=now,
                expires_at=now + timedelta(seconds=LINK_MAX_AGE),
            )
            if held:
                os.replace(partial, path)
    for stale in path.parent.glob(f"{path.name}.*.part"):  # left by attempts whose worker died
        if held and stale != partial:
            stale.unlink(missing_ok=True)
    if not held:
        log.warning("export %s: attempt %s lost its lease; its file is dropped", job.pk, attempt)
        partial.unlink(missing_ok=True)
        return None
    job.refresh_from_db()
    return job


# --- Download links --------------------------------------------------------------------------------


def export_link_token(*, job: ExportJob) -> str:
    return signing.TimestampSigner(salt=LINK_SALT).sign(f"{job.pk}:{job.requested_by_id}")


def export_link_check(*, job: ExportJob, token: str) -> None:
    try:
        value = signing.TimestampSigner(salt=LINK_SALT).unsign(token, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise AppError(
            _("This download link has expired; ask for the export's status again for a new one."),
            code="link_expired",
            status=410,
        ) from None
    except signing.BadSignature:
        raise Forbidden(_("This download link is not valid."), code="bad_link") from None
    if value != f"{job.pk}:{job.requested_by_id}":
        raise Forbidden(_("This download link is for another export."), code="bad_link")
    if job.status != JobStatus.DONE or not job.file:
        raise NotFound(_("This export has no file."), code="not_ready")
