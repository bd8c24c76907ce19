"""lab/detached.py: a pid file counts only while it names the helper's own process."""

from __future__ import annotations

import os

from lab import detached


def test_a_pid_file_counts_only_for_the_named_module(tmp_path):
    pid_path = tmp_path / "helper.pid"
    assert detached.running_pid(pid_path, "lab.cable") is None  # no file
    pid_path.write_text(f"{os.getpid()}\n")  # this pytest process: not the relay
    assert detached.running_pid(pid_path, "lab.cable") is None
    assert detached.running_pid(pid_path, "pytest") == os.getpid()
    pid_path.write_text("not a pid\n")
    assert detached.running_pid(pid_path, "pytest") is None


def test_stopping_a_helper_that_does_not_run_only_forgets_its_pid_file(tmp_path):
    pid_path = tmp_path / "helper.pid"
    pid_path.write_text(f"{os.getpid()}\n")
    assert detached.stop(pid_path, "lab.timeserver") is False  # never signals pytest
    assert not pid_path.exists()
