"""Executes docs/planning.ipynb with nbclient in docs/, as a reader would run it, and fails
(exit code 1, the cell's error printed) if any cell raises. CI's notebook step; the stored
outputs are left as they are. Prints the wall-clock seconds it took."""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

PATH = Path(__file__).resolve().parents[1] / "docs" / "planning.ipynb"

started = time.monotonic()
nb = nbformat.read(PATH, as_version=4)
try:
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(PATH.parent)}}).execute()
except CellExecutionError as e:
    print(f"{PATH}: a cell failed:\n{e}", file=sys.stderr)
    sys.exit(1)
print(f"{PATH}: every cell ran, in {time.monotonic() - started:.0f} s")
