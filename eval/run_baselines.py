#!/usr/bin/env python3
"""Run the OCR baselines over the eval dataset and print a comparison table.

Engines (each runs in its own worker process so peak RSS is per engine):
  rapidocr_rec  RapidOCR, recognition only (use_det=False, use_cls=False) on lines
  rapidocr      RapidOCR full pipeline (det + cls + rec) on lines and pages
  tesseract     Tesseract CLI, -l eng+chi_sim, --psm 7 for lines, --psm 3 for pages

Predictions go to <results>/<engine>.jsonl: {"file", "text"} per line image,
{"file", "lines": [...]} per page, plus one {"meta": {...}} record with the
timings.  Results of another engine in the same format (Tollgate's Rust bench)
are added to the table with --tollgate-results FILE (or NAME=FILE, repeatable).

Only inference is timed: every image is decoded from disk before its clock
starts (RapidOCR gets a numpy array).  The Tesseract CLI reads its images
itself: each set (lines, pages) is one tesseract process over a list file so
that the model loads once; its time includes the PNG decoding and that one
model load (~0.25 s).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(EVAL_DIR))

import cer  # noqa: E402

ENGINES = {
    "rapidocr_rec": "RapidOCR rec-only",
    "rapidocr": "RapidOCR det+cls+rec",
    "tesseract": "Tesseract 5 (eng+chi_sim)",
}


# --------------------------------------------------------------------------
# Workers
# --------------------------------------------------------------------------


def _select_lines(data: Path, limit: int | None, stride: int = 1) -> list[dict]:
    recs = cer.read_jsonl(data / "lines.jsonl")
    if limit is not None:
        recs = recs[:limit]
    return recs[:: max(1, stride)]


def _select_pages(data: Path, limit: int | None) -> list[dict]:
    recs = cer.read_jsonl(data / "pages.jsonl")
    if limit is not None:
        recs = recs[:limit]
    return recs


def _peak_rss_kb(children: bool = False) -> int:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss  # KiB on Linux


def _vm_hwm_kb() -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _write_results(path: Path, records: list[dict], meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"meta": meta}, ensure_ascii=False) + "\n")
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _load_gray(path: Path):
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode not in ("L", "RGB"):
            im = im.convert("RGB")
        return np.asarray(im)


def worker_rapidocr(args, rec_only: bool) -> int:
    import cv2
    from importlib.metadata import version

    cv2.setNumThreads(args.threads)
    from rapidocr_onnxruntime import RapidOCR

    if args.threads > (os.cpu_count() or 1):
        print(f"warning: RapidOCR ignores thread counts above cpu_count ({os.cpu_count()})",
              file=sys.stderr)
    rss_before_init = _vm_hwm_kb()
    t = time.perf_counter()
    engine = RapidOCR(intra_op_num_threads=args.threads, inter_op_num_threads=args.threads)
    init_s = time.perf_counter() - t

    records: list[dict] = []
    lines = _select_lines(args.data, args.limit_lines, 1 if rec_only else args.full_lines_stride)
    lines_s = 0.0
    for rec in lines:
        img = _load_gray(args.data / rec["file"])
        t = time.perf_counter()
        if rec_only:
            res, _ = engine(img, use_det=False, use_cls=False, use_rec=True)
        else:
            res, _ = engine(img)
        dt = time.perf_counter() - t
        lines_s += dt
        if not res:
            text = ""
        elif rec_only:
            text = " ".join(str(r[0]) for r in res)
        else:
            text = " ".join(str(r[1]) for r in res)
        records.append({"file": rec["file"], "text": text, "ms": round(dt * 1000, 2)})

    pages_s = 0.0
    pages = [] if rec_only else _select_pages(args.data, args.limit_pages)
    for rec in pages:
        img = _load_gray(args.data / rec["file"])
        t = time.perf_counter()
        res, _ = engine(img)
        dt = time.perf_counter() - t
        pages_s += dt
        out = [str(r[1]) for r in res] if res else []
        records.append({"file": rec["file"], "lines": out, "ms": round(dt * 1000, 2)})

    meta = {
        "engine": args.worker,
        "threads": args.threads,
        "lines_count": len(lines),
        "lines_seconds": lines_s,
        "lines_stride": 1 if rec_only else args.full_lines_stride,
        "pages_count": len(pages),
        "pages_seconds": pages_s,
        "init_seconds": init_s,
        "peak_rss_kb": _peak_rss_kb(),
        "rss_before_init_kb": rss_before_init,
        "rss_source": "RUSAGE_SELF (worker process)",
        "versions": {
            "rapidocr_onnxruntime": version("rapidocr_onnxruntime"),
            "onnxruntime": version("onnxruntime"),
            "opencv": cv2.__version__,
        },
    }
    _write_results(args.out, records, meta)
    return 0


def _tesseract_batch(images: list[Path], psm: int, lang: str, env: dict) -> tuple[list[str], float]:
    """Run one tesseract process over a list of images; texts split on form feeds."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        for p in images:
            fh.write(str(p.resolve()) + "\n")
        listfile = fh.name
    try:
        cmd = ["tesseract", listfile, "stdout", "--psm", str(psm), "-l", lang]
        t = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True)
        dt = time.perf_counter() - t
    finally:
        os.unlink(listfile)
    if proc.returncode != 0:
        raise RuntimeError(f"tesseract failed: {proc.stderr.decode(errors='replace')[-2000:]}")
    parts = proc.stdout.decode("utf-8", errors="replace").split("\f")
    if len(parts) != len(images):
        # A separator count we cannot trust: fall back to one process per image.
        print(f"warning: tesseract batch gave {len(parts)} pages for {len(images)} images; "
              "running one process per image", file=sys.stderr)
        texts, total = [], 0.0
        for p in images:
            t = time.perf_counter()
            pr = subprocess.run(["tesseract", str(p), "stdout", "--psm", str(psm), "-l", lang],
                                env=env, capture_output=True)
            total += time.perf_counter() - t
            texts.append(pr.stdout.decode("utf-8", errors="replace"))
        return texts, total
    return parts, dt


def worker_tesseract(args) -> int:
    if shutil.which("tesseract") is None:
        print("error: tesseract not found (apt-get install tesseract-ocr tesseract-ocr-chi-sim)",
              file=sys.stderr)
        return 2
    env = dict(os.environ, OMP_THREAD_LIMIT=str(args.threads))
    lang = args.tess_lang
    version_line = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
    version_txt = (version_line.stdout or version_line.stderr).splitlines()[0]

    records: list[dict] = []
    lines = _select_lines(args.data, args.limit_lines)
    lines_s = 0.0
    if lines:
        texts, lines_s = _tesseract_batch([args.data / r["file"] for r in lines], 7, lang, env)
        for rec, text in zip(lines, texts):
            records.append({"file": rec["file"], "text": " ".join(text.split())})
    pages = _select_pages(args.data, args.limit_pages)
    pages_s = 0.0
    if pages:
        texts, pages_s = _tesseract_batch([args.data / r["file"] for r in pages], 3, lang, env)
        for rec, text in zip(pages, texts):
            out = [ln.strip() for ln in text.splitlines() if ln.strip()]
            records.append({"file": rec["file"], "lines": out})

    meta = {
        "engine": args.worker,
        "threads": args.threads,
        "lines_count": len(lines),
        "lines_seconds": lines_s,
        "pages_count": len(pages),
        "pages_seconds": pages_s,
        "peak_rss_kb": _peak_rss_kb(children=True),
        "rss_source": "RUSAGE_CHILDREN (largest tesseract process)",
        "lang": lang,
        "versions": {"tesseract": version_txt},
    }
    _write_results(args.out, records, meta)
    return 0


# --------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------


def engine_label(engine: str, args) -> str:
    if engine == "tesseract":
        return f"Tesseract 5 ({args.tess_lang})"
    return ENGINES[engine]


def run_worker(engine: str, args, out: Path) -> float:
    cmd = [
        sys.executable, str(Path(__file__).resolve()),
        "--worker", engine,
        "--data", str(args.data),
        "--worker-out", str(out),
        "--threads", str(args.threads),
        "--full-lines-stride", str(args.full_lines_stride),
        "--tess-lang", args.tess_lang,
    ]
    if args.limit_lines is not None:
        cmd += ["--limit-lines", str(args.limit_lines)]
    if args.limit_pages is not None:
        cmd += ["--limit-pages", str(args.limit_pages)]
    n = str(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=n, OMP_THREAD_LIMIT=n, OPENBLAS_NUM_THREADS=n,
               MKL_NUM_THREADS=n)
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True)
    return time.perf_counter() - t


def _rate(count, seconds):
    if not count or not seconds:
        return None
    return count / seconds


def summarize(name: str, label: str, path: Path, args, scope_predicted: bool) -> dict:
    """Scores + speed for one results file."""
    lines_pred, pages_pred, meta = cer.split_predictions(cer.read_jsonl(path))
    gt_lines = _select_lines(args.data, args.limit_lines)
    gt_pages = _select_pages(args.data, args.limit_pages)
    if scope_predicted:
        # Baselines write a record for every image they processed (possibly a
        # strided subset); score exactly those.
        gt_lines = [r for r in gt_lines if r["file"] in lines_pred]
        gt_pages = [r for r in gt_pages if r["file"] in pages_pred]
    row: dict = {"engine": name, "label": label, "results": str(path), "meta": meta}
    if lines_pred:
        row["lines"] = cer.evaluate_lines(gt_lines, lines_pred, nfkc=not args.no_nfkc) if gt_lines else None
    if pages_pred:
        row["pages"] = cer.evaluate_pages(gt_pages, pages_pred, nfkc=not args.no_nfkc) if gt_pages else None
    lps = meta.get("lines_per_s") or _rate(meta.get("lines_count"), meta.get("lines_seconds"))
    pps = meta.get("pages_per_s") or _rate(meta.get("pages_count"), meta.get("pages_seconds"))
    rss_kb = meta.get("peak_rss_kb")
    if rss_kb is None and meta.get("peak_rss_mb") is not None:
        rss_kb = float(meta["peak_rss_mb"]) * 1024
    row["lines_per_s"] = lps
    row["pages_per_s"] = pps
    row["peak_rss_mb"] = rss_kb / 1024 if rss_kb else None
    row["threads"] = meta.get("threads")
    return row


def _c(score: dict | None, *keys) -> str:
    cur = score
    for k in keys:
        if not isinstance(cur, dict) or k not in cur:
            return "n/a"
        cur = cur[k]
    return cer.fmt_cer(cur) if not isinstance(cur, dict) else "n/a"


def _n(x, fmt="{:.1f}"):
    return "n/a" if x is None else fmt.format(x)


def render_table(rows: list[dict]) -> str:
    head = ["engine", "threads", "lines n", "CER en", "CER zh", "CER lines", "pages n",
            "CER pages", "CER pages bag", "lines/s", "pages/s", "peak RSS MB"]
    body = []
    for r in rows:
        L, P = r.get("lines"), r.get("pages")
        body.append([
            r["label"],
            _n(r.get("threads"), "{}"),
            str(L["n"]) if L else "-",
            _c(L, "by_lang", "en", "cer"),
            _c(L, "by_lang", "zh", "cer"),
            _c(L, "all", "cer"),
            str(P["n"]) if P else "-",
            _c(P, "order", "cer"),
            _c(P, "bag", "cer"),
            _n(r.get("lines_per_s"), "{:.2f}"),
            _n(r.get("pages_per_s"), "{:.3f}"),
            _n(r.get("peak_rss_mb"), "{:.0f}"),
        ])
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    fmt_row = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    lines = [fmt_row(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [fmt_row(b) for b in body]
    return "\n".join(lines)


def render_details(rows: list[dict]) -> str:
    out = []
    for r in rows:
        L, P = r.get("lines"), r.get("pages")
        parts = [f"{r['label']}:"]
        if L:
            parts.append(f"  lines: exact {L['exact']}/{L['n']}, missing {L['missing']}; by degradation: "
                         + ", ".join(f"{k} {cer.fmt_cer(v['cer'])}" for k, v in L["by_degradation"].items()))
        if P:
            parts.append(f"  pages: upright {_c(P, 'upright', 'cer')}, rotated180 {_c(P, 'rotated180', 'cer')}, "
                         f"extra predicted lines {P['extra_lines']}, missing {P['missing']}; by degradation: "
                         + ", ".join(f"{k} {cer.fmt_cer(v['cer'])}" for k, v in P["by_degradation"].items()))
        out.append("\n".join(parts))
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=EVAL_DIR / "data")
    ap.add_argument("--results", type=Path, default=EVAL_DIR / "results")
    ap.add_argument("--threads", type=int, default=1, help="threads for every engine (default 1)")
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help=f"comma-separated subset of {','.join(ENGINES)} ('' for none)")
    ap.add_argument("--limit", type=int, help="quick check: first N lines and first N//10 (>=1) pages")
    ap.add_argument("--limit-lines", type=int)
    ap.add_argument("--limit-pages", type=int)
    ap.add_argument("--full-lines-stride", type=int, default=5,
                    help="RapidOCR det+cls+rec runs on every K-th line image only "
                         "(1.1-1.5 s per line at 1 thread); 1 = all lines (default 5)")
    ap.add_argument("--tess-lang", default="eng+chi_sim")
    ap.add_argument("--skip-run", action="store_true",
                    help="do not run engines, only score existing <results>/<engine>.jsonl")
    ap.add_argument("--tollgate-results", action="append", default=[], metavar="[NAME=]FILE",
                    help="JSONL from Tollgate's bench (same format); repeatable")
    ap.add_argument("--no-nfkc", action="store_true", help="score without NFKC folding")
    ap.add_argument("--worker", choices=list(ENGINES), help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.limit is not None:
        if args.limit_lines is None:
            args.limit_lines = args.limit
        if args.limit_pages is None:
            args.limit_pages = max(1, args.limit // 10)

    if args.worker:
        args.out = args.worker_out
        if args.worker == "tesseract":
            return worker_tesseract(args)
        return worker_rapidocr(args, rec_only=args.worker == "rapidocr_rec")

    if not (args.data / "lines.jsonl").exists():
        print(f"error: no dataset in {args.data}; run eval/make_dataset.py first", file=sys.stderr)
        return 2
    engines = [e for e in args.engines.split(",") if e]
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e!r}")

    rows = []
    wall = {}
    for e in engines:
        out = args.results / f"{e}.jsonl"
        if not args.skip_run:
            print(f"running {engine_label(e, args)} ...", file=sys.stderr, flush=True)
            wall[e] = run_worker(e, args, out)
            print(f"  done in {wall[e]:.1f}s -> {out}", file=sys.stderr, flush=True)
        if not out.exists():
            print(f"warning: {out} missing, skipped", file=sys.stderr)
            continue
        rows.append(summarize(e, engine_label(e, args), out, args, scope_predicted=True))

    for spec in args.tollgate_results:
        name, _, path = spec.rpartition("=")
        name = name or "tollgate"
        path = Path(path)
        if not path.exists():
            print(f"error: {path} not found", file=sys.stderr)
            return 2
        rows.append(summarize(name, name, path, args, scope_predicted=False))

    if not rows:
        print("nothing to report", file=sys.stderr)
        return 1
    table = render_table(rows)
    details = render_details(rows)
    print(table)
    print()
    print(details)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "summary.md").write_text(table + "\n\n" + details + "\n", encoding="utf-8")
    (args.results / "summary.json").write_text(
        json.dumps({"rows": rows, "wall_seconds": wall, "threads": args.threads,
                    "limit_lines": args.limit_lines, "limit_pages": args.limit_pages},
                   ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
