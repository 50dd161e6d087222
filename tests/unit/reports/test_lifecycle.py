"""A report run's lifecycle table (reports.models.RUNS)."""

from __future__ import annotations

from reports.models import RUNS


def test_a_run_is_started_then_finished_or_failed():
    assert RUNS.target("queued", "start") == "running"
    assert RUNS.target("running", "start") == "running"  # RQ's retry after a worker died
    assert RUNS.actions("running") == {"start", "finish", "fail"}
    assert RUNS.actions("done") == set() and RUNS.actions("failed") == set()
    assert not RUNS.can("queued", "finish")


def test_the_machine_stamps_start_and_finish():
    assert RUNS.stamp_column("running") == "started_at"
    assert RUNS.stamp_column("done") == RUNS.stamp_column("failed") == "finished_at"
