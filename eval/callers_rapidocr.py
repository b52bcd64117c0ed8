"""RapidOCR's answer to `ocr_callers`: N processes (RapidOCR is not thread-safe per engine,
so concurrency means processes), each with its own engine at one onnxruntime thread, take
the next page of the evaluation set until the first `--pages` are read. Each process warms
up on one page, then resets its peak-RSS mark, before the clock starts (as `ocr_callers`
does). Prints one JSON line: wall time, pages/s, and peak memory as the sum of every
process's peak RSS after warm-up, plus the parent's. Pages shared after the fork (the
interpreter, numpy) are counted once per process, so the sum is an upper bound; the models
are loaded in each process and are not shared.

    .venv-eval/bin/python eval/callers_rapidocr.py --callers 8 --pages 20
"""

import argparse
import json
import multiprocessing as mp
import time
from pathlib import Path

import numpy as np
from PIL import Image


def _hwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def _load(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        im.load()
        if im.mode not in ("L", "RGB"):
            im = im.convert("RGB")
        return np.asarray(im)


def _worker(data: Path, files: list, next_page, ready, start, out) -> None:
    import cv2

    cv2.setNumThreads(1)
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
    engine(_load(data / files[0]))
    # Linux: writing 5 to clear_refs resets the peak-RSS mark (VmHWM) to the current RSS.
    Path("/proc/self/clear_refs").write_text("5")
    ready.release()
    start.wait()
    lines = 0
    while True:
        with next_page.get_lock():
            i = next_page.value
            next_page.value += 1
        if i >= len(files):
            break
        res, _ = engine(_load(data / files[i]))
        if res is None:
            res = []
        lines += len(res)
    out.put((lines, _hwm_kb()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--callers", type=int, default=8)
    ap.add_argument("--pages", type=int, default=20)
    args = ap.parse_args()
    rows = [json.loads(l) for l in (args.data / "pages.jsonl").read_text().splitlines()]
    files = [r["file"] for r in rows[: args.pages]]
    assert len(files) == args.pages, f"the set has {len(files)} pages"
    ctx = mp.get_context("fork")
    next_page = ctx.Value("i", 0)
    ready = ctx.Semaphore(0)
    start = ctx.Event()
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(args.data, files, next_page, ready, start, out))
        for _ in range(args.callers)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    t = time.perf_counter()
    start.set()
    results = [out.get() for _ in procs]
    seconds = time.perf_counter() - t
    for p in procs:
        p.join()
        assert p.exitcode == 0, f"a worker failed: {p.exitcode}"
    print(json.dumps({
        "engine": "rapidocr", "callers": args.callers, "pages": len(files),
        "lines_read": sum(r[0] for r in results), "seconds": seconds,
        "pages_per_s": len(files) / seconds,
        "peak_rss_mib": round((sum(r[1] for r in results) + _hwm_kb()) / 1024),
    }))


if __name__ == "__main__":
    main()
