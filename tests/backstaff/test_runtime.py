"""What the runtime reads from the project at apply time: a file gone by the time it is uploaded
fails its step with a plain reason, not an OSError's repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from backstaff.executors.apply import StepFailed
from backstaff.runtime import _project_file


def test_a_file_gone_at_upload_fails_its_step_plainly(tmp_path: Path) -> None:
    with pytest.raises(
        StepFailed, match=r"^cannot read config/gone.sql: No such file or directory$"
    ):
        _project_file(tmp_path, "config/gone.sql")
    (tmp_path / "there").write_bytes(b"\x00data")
    assert _project_file(tmp_path, "there") == b"\x00data"
