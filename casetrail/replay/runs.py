"""Running an uploaded replay file for the replay pages, in the task worker.

The run goes through the `replay` command exactly as a reviewer would start it by hand, so it
gets the command's isolation: a child process pointed at a new SQLite database that is migrated,
used and deleted. The live database is only ever written with this run's own row (its state,
progress and report); no case, person, message or log entry of the replay reaches it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.template.loader import render_to_string

from casetrail import clock
from casetrail.replay.models import ReplayRun

logger = logging.getLogger("casetrail.replay")
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# A run that takes longer than this is stopped and marked failed.
RUN_TIMEOUT_SECONDS = 15 * 60
POLL_SECONDS = 0.5


def report_html(markdown: str) -> str:
    """The Markdown report as HTML. Raw HTML in the report (which quotes the uploaded file) is
    escaped, never passed through, and links may not use javascript: or data: URLs."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    return parser.render(markdown)


def report_pdf(run: ReplayRun) -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, which only the reports need

    # No base_url and no external resources: the document is self-contained.
    page = render_to_string("replay/report_pdf.html", {"run": run})
    return HTML(string=page).write_pdf()  # type: ignore[no-any-return]


def execute(run_id: int) -> None:
    """Run the uploaded file in a throwaway database and store its report on the run's row."""
    run = ReplayRun.objects.get(pk=run_id)
    if run.status != ReplayRun.Status.QUEUED:
        return
    run.status = ReplayRun.Status.RUNNING
    run.save(update_fields=["status"])
    with tempfile.TemporaryDirectory(prefix="casetrail-replay-upload-") as scratch:
        folder = Path(scratch)
        source, report, progress = folder / "replay.yaml", folder / "report.md", folder / "progress"
        source.write_text(run.source, encoding="utf-8")
        command = [sys.executable, "-m", "casetrail", "replay", str(source), f"--report={report}",
                   f"--progress-file={progress}", "--verbosity=0"]
        env = {k: v for k, v in os.environ.items() if k != "CASETRAIL_TASKS_IMMEDIATE"}
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started = time.monotonic()
        while child.poll() is None:
            if time.monotonic() - started > RUN_TIMEOUT_SECONDS:
                child.kill()
                break
            _read_progress(run, progress)
            time.sleep(POLL_SECONDS)
        out, err = child.communicate()
        _read_progress(run, progress)
        if child.returncode == 0 and report.exists():
            run.report_markdown = report.read_text(encoding="utf-8")
            run.report_html = report_html(run.report_markdown)
            run.steps_done = run.steps_total
            run.status = ReplayRun.Status.DONE
            run.report_pdf = report_pdf(run)
        else:
            run.status = ReplayRun.Status.REFUSED if child.returncode == 2 else ReplayRun.Status.FAILED
            run.problems = _problems(err or out, str(source), run.file_name) or "The replay stopped without a reason."
            if run.status == ReplayRun.Status.FAILED:
                logger.error("replay run %s failed (exit %s): %s", run.pk, child.returncode, err[-2000:])
    run.finished_at = clock.now()
    run.save()


def _read_progress(run: ReplayRun, progress: Path) -> None:
    try:
        done, total = (int(part) for part in progress.read_text(encoding="utf-8").split())
    except (OSError, ValueError):
        return
    if (done, total) != (run.steps_done, run.steps_total):
        run.steps_done, run.steps_total = done, total
        run.save(update_fields=["steps_done", "steps_total"])


def _problems(text: str, scratch_path: str, file_name: str) -> str:
    """The command's own words, naming the uploaded file rather than the scratch copy."""
    lines = [line.replace(scratch_path, file_name) for line in text.strip().splitlines()
             if line.strip() and not line.startswith(("Traceback", "  File "))]
    return "\n".join(line.replace("CommandError: ", "") for line in lines)[-5000:]
