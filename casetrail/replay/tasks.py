"""The replay pages' task: run by the task worker (`run_worker`), never in a web request."""

from __future__ import annotations

from django_tasks import task


@task()
def run_replay(run_id: int) -> None:
    from casetrail.replay.runs import execute

    execute(run_id)
