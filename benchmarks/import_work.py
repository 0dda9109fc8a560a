"""An import worker's per-file work, file after file in one process: what bench_import's W_seq and W_par time.

    .venv/bin/python -m benchmarks.import_work FILE...

It runs the function an import's workers run on every file (``wkmp_ai.ingest.tasks.analyse_file``:
one decode → passages, lead points, fingerprints, flavor and the segment editor's waveform peaks)
with the import's default parameters and the workers' allocator settings, and prints one JSON object
per file as ``wkmp-ai analyze --json`` does (the peaks left out). ``wkmp-ai analyze`` itself skips
the peaks, which the import computes for every file (1–2 % of the analysis, ``bench_editor``); timed
with it, the overlap would count them as the import's own cost instead of per-file work.
"""

from __future__ import annotations

import json
import sys

from wkmp_ai.heap import reuse_freed_memory
from wkmp_ai.ingest.tasks import analyse_file
from wkmp_ai.params import defaults


def main(paths: list[str]) -> int:
    reuse_freed_memory()  # as in every import worker
    params = defaults()
    for path in paths:
        doc = analyse_file(path, params, flavor=True, peaks=True).to_json()
        doc.pop("peaks", None)
        print(json.dumps(doc, allow_nan=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
