"""Clear the outputs of the notebooks' "explore" cells after `make figures` has executed them.

An explorer's output is a live widget: a random model id and a PNG of the moment, nothing a reader can use
from a file and different on every run. Storing it would make every `make figures` change the notebooks;
so the cells tagged "explore" keep their execution count (the notebook still reads as run top to bottom) and
lose their outputs. nbval runs these cells but does not compare them (tag "nbval-ignore-output").

    python tests/clear_explore_outputs.py fig1-overview.ipynb [...]
"""

from __future__ import annotations

import sys

import nbformat

TAG = "explore"


def clear(path) -> int:
    """Clear the outputs of the cells tagged ``explore`` in the notebook at ``path``; returns how many."""
    nb = nbformat.read(path, as_version=4)
    cleared = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and TAG in cell.get("metadata", {}).get("tags", []) and cell.outputs:
            cell.outputs = []
            cleared += 1
    nb.metadata.pop("widgets", None)  # no stored widget state either
    nbformat.write(nb, path)
    return cleared


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: cleared {clear(name)} explore output(s)")
