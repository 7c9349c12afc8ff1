"""A real API process (uvicorn) takes a 40 MiB upload, sent as the CLI sends it (multipart streamed
from disk, with an Idempotency-Key), without its peak resident memory growing by more than a
fraction of the file: the body streams to disk, it is never held whole.

Why this measure: VmHWM is the kernel's record of the process's peak resident set, so the figure
does not depend on when it is sampled or on how loaded the machine is (a slow upload is just as
flat). The path is warmed with a small upload first (lazy imports, allocator pools), and the bound
(10 MiB for a 40 MiB file) sits far from both sides: streaming grows it by about 1 MiB, and any
whole copy of the body (the idempotency layer's buffer, the route's ``read()``) would add 40 MiB by
itself — before the change the growth was about 240 MiB (``python -m bench.upload_memory``)."""

from __future__ import annotations

import pytest

from bench.upload_memory import MIB, api_process, measure

pytestmark = pytest.mark.integration

FILE_BYTES = 40 * MIB
GROWTH_BOUND = 10 * MIB


def test_a_40_mib_upload_leaves_the_api_peak_memory_flat(tmp_path):
    data_dir, work_dir = tmp_path / "data", tmp_path / "work"
    data_dir.mkdir()
    work_dir.mkdir()
    with api_process(data_dir) as api:
        figures = measure(api, FILE_BYTES, work_dir)
    assert figures["size_stored"] == FILE_BYTES
    assert figures["peak_rss_growth_bytes"] < GROWTH_BOUND, figures
    assert not [p for p in (data_dir / "content").iterdir() if p.name.startswith(".upload.")]  # no staging left
