"""``import leadscore`` and the CLI stay cheap: heavy optional modules load only when used.

A fresh interpreter is the only honest check: this test process has imported plenty already.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sklearn", "lightgbm", "fastapi", "uvicorn", "pyspark")
PROBE = """
import json, sys
import leadscore
import leadscore.cli.main
watched = set(sys.argv[1:])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in watched)))
"""


def loaded_after_import(*watched: str) -> list[str]:
    """Modules among ``watched`` that a fresh ``import leadscore; import leadscore.cli.main`` loads."""
    done = subprocess.run([sys.executable, "-c", PROBE, *watched], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_import_leadscore_and_the_cli_loads_no_heavy_module() -> None:
    assert loaded_after_import(*HEAVY) == []


def test_the_probe_sees_modules_that_are_loaded() -> None:
    """The control: the same probe does report modules the import really loads."""
    assert "typer" in loaded_after_import("typer", *HEAVY)
