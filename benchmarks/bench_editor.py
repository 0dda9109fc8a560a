"""Benchmark of the segment editor's waveform peaks, as figures against references in the same run.

1. Import cost of the peaks: the analysis of a long FLAC (flavor on, as the import runs it) with
   and without peaks, alternating, medians of CPU time; and the time spent inside the peaks
   collector itself, measured directly, as a share of the analysis. Goal ≤ 3 %.
2. Serving: the file imported through the real API (services offline), then
   ``GET /files/{id}/peaks`` timed over HTTP (median of 5). Goal < 1 s for 70 minutes. Also the
   first request for a file imported before peaks were kept (one decode of its own).

Run: ``.venv/bin/python -m benchmarks.bench_editor [--minutes 70] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import DEAD_URL, SERVICES, free_port, running_server  # noqa: E402
from tests.ingest.test_import_api import wait_finished  # noqa: E402
from tests.synth import write_long_flac  # noqa: E402

from wkmp_ai import params as P  # noqa: E402
from wkmp_ai.audio import peaks as peaks_module  # noqa: E402
from wkmp_ai.audio.analyze import analyze_file  # noqa: E402
from wkmp_ai.config import load_settings  # noqa: E402


def import_cost(path: Path, repeat: int) -> None:
    params = P.defaults()
    spent = [0.0]
    original = peaks_module.PeaksCollector.push

    def timed(self: peaks_module.PeaksCollector, mix: object) -> None:
        started = time.process_time()
        original(self, mix)  # type: ignore[arg-type]
        spent[0] += time.process_time() - started

    cpu: dict[bool, list[float]] = {False: [], True: []}
    shares = []
    analyze_file(path, params, flavor=True, peaks=True)  # warm-up: libraries loaded, file cached
    for _ in range(repeat):
        for with_peaks in (False, True):
            spent[0] = 0.0
            peaks_module.PeaksCollector.push = timed  # type: ignore[method-assign]
            started = time.process_time()
            analyze_file(path, params, flavor=True, peaks=with_peaks)
            total = time.process_time() - started
            peaks_module.PeaksCollector.push = original  # type: ignore[method-assign]
            cpu[with_peaks].append(total)
            if with_peaks:
                shares.append(spent[0] / total)
    without, with_ = statistics.median(cpu[False]), statistics.median(cpu[True])
    print(f"analysis CPU s, median of {repeat}: without peaks {without:.2f}, with peaks {with_:.2f}")
    print(f"  end-to-end ratio with/without: {with_ / without:.3f} (noise of a loaded machine included)")
    print(f"  inside the peaks collector: {statistics.median(shares) * 100:.2f} % of the analysis (goal <= 3 %)")


def serving(path: Path, work: Path) -> None:
    root = work / "music"
    root.mkdir()
    (root / path.name).write_bytes(path.read_bytes())
    urls = {f"{name}_url": DEAD_URL for name in SERVICES}
    settings = load_settings({"root_folder": root, "port": free_port(), **urls}, env={})
    with running_server(settings, timeout=120) as server:
        started = time.monotonic()
        status = wait_finished(server, server.post("/import/start", json={}).json()["session_id"], 3600)
        print(f"import of the file: {time.monotonic() - started:.1f} s ({status['state']})")
        file_id = server.get("/files").json()["files"][0]["id"]
        times = []
        for _ in range(5):
            started = time.perf_counter()
            response = server.get(f"/files/{file_id}/peaks")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        size = len(response.content)
        print(
            f"GET peaks after import: median {statistics.median(times) * 1000:.0f} ms for {size / 1e6:.2f} MB "
            f"({response.json()['count']} pairs) (goal < 1000 ms)"
        )
        import sqlite3

        with sqlite3.connect(settings.db_path) as conn:
            conn.execute("DELETE FROM wkmp_ai_peaks")
        started = time.perf_counter()
        assert server.get(f"/files/{file_id}/peaks").status_code == 200
        print(
            f"GET peaks of a file imported before peaks were kept (one decode): {time.perf_counter() - started:.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=70.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["XDG_CONFIG_HOME"] = str(work / "xdg")  # no user config
        path = write_long_flac(work / "long.flac", minutes=args.minutes)
        print(f"{args.minutes:g}-minute stereo FLAC, 44.1 kHz")
        import_cost(path, args.repeat)
        serving(path, work)


if __name__ == "__main__":
    main()
