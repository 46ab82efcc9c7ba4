"""The replay pages, for the oversight role: upload a replay file, watch its run, read its report
(HTML on the page, or as a PDF). The run is the task worker's, in a throwaway database; these
pages only read and write the run's own row. Every look is written to the access log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe

from casetrail import clock
from casetrail.audit.services import access_log
from casetrail.cases.access import allowed
from casetrail.core.policy import Permission
from casetrail.replay.forms import ReplayUploadForm
from casetrail.replay.models import ReplayRun


def _may_replay(request: HttpRequest) -> None:
    if not allowed(request.user, Permission.RUN_REPLAY):  # type: ignore[arg-type]
        raise PermissionDenied("Only the oversight role runs replays.")


@login_required
def replay_upload(request: HttpRequest) -> HttpResponse:
    _may_replay(request)
    form = ReplayUploadForm(request.POST, request.FILES) if request.method == "POST" else ReplayUploadForm()
    if form.is_bound and form.is_valid() and form.replay is not None:
        from casetrail.replay.tasks import run_replay

        run = ReplayRun.objects.create(uploaded_by=request.user, uploaded_at=clock.now(),
                                       file_name=form.cleaned_data["file"].name[:200],
                                       title=form.replay.title[:300], source=form.text)
        access_log(user=request.user, operation="collection", subject=run,
                   justification=f"Replay file uploaded to run in a throwaway database: {run.file_name}")
        run_replay.enqueue(run.pk)
        messages.success(request, "Your replay file has been checked and queued")
        return redirect("web:replay-run", run_id=run.pk)
    runs = ReplayRun.objects.select_related("uploaded_by").defer("source", "report_markdown", "report_html",
                                                                 "report_pdf")[:20]
    access_log(user=request.user, operation="consultation", subject=request.user,
               justification="The list of replay runs")
    return render(request, "replay/upload.html", {"form": form, "runs": runs},
                  status=400 if form.errors else 200)


@login_required
def replay_run(request: HttpRequest, run_id: int) -> HttpResponse:
    _may_replay(request)
    run = get_object_or_404(ReplayRun.objects.defer("report_pdf"), pk=run_id)
    access_log(user=request.user, operation="consultation", subject=run,
               justification=f"Replay run {run.pk} ({run.status})")
    return render(request, "replay/run.html", {"run": run, "report": mark_safe(run.report_html)})  # noqa: S308  (markdown-it with raw HTML escaped)


@login_required
def replay_report_pdf(request: HttpRequest, run_id: int) -> HttpResponse:
    _may_replay(request)
    run = get_object_or_404(ReplayRun, pk=run_id, status=ReplayRun.Status.DONE)
    access_log(user=request.user, operation="consultation", subject=run,
               justification=f"Replay run {run.pk}: report downloaded as PDF")
    response = HttpResponse(bytes(run.report_pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="replay-{run.pk}-report.pdf"'
    return response
