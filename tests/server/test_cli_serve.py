"""`rag-oracle serve`: bad input is refused before anything starts."""

from __future__ import annotations

from tests.server.conftest import require_extra

require_extra()

import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from rag_oracle.cli_serve import serve  # noqa: E402


def test_bad_options_exit_2() -> None:
    result = CliRunner().invoke(serve, ["--port", "70000"])
    assert result.exit_code == 2 and "70000" in result.output
    result = CliRunner().invoke(serve, ["--rate-limit", "-1"])
    assert result.exit_code == 2


def test_missing_index_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rag_oracle.server", "--index", str(tmp_path / "nowhere"), "--db", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "nowhere" in proc.stderr
    assert "Traceback" not in proc.stderr
