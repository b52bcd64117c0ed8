#!/usr/bin/env python3
"""Character error rate (CER) for the Tollgate OCR evaluation.

CER = sum of Levenshtein edit distances / sum of reference characters,
computed after normalisation (see `normalize`).  Corpus-level, not a mean of
per-item rates, so long lines weigh more than short ones.

Lines (lines.jsonl vs predictions {"file", "text"}):
  each reference/prediction pair is normalised with the reference's language.

Pages (pages.jsonl vs predictions {"file", "lines": [...]}):
  * page CER ("reading order"): the normalised predicted lines joined with
    "\\n" against the normalised reference lines joined with "\\n";
    line order, merged/split lines and missing or extra lines all count.
  * bag-of-lines CER: every reference line is paired with a distinct
    predicted line (greedy, smallest edit distance first); unpaired
    reference lines count as fully deleted, unpaired predicted lines are
    only counted (`extra_lines`), not charged.  Isolates recognition quality
    from reading order.

A file with no prediction counts as an empty prediction.

CLI:
  python eval/cer.py --data eval/data eval/results/rapidocr.jsonl [...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Iterable, Sequence

# --------------------------------------------------------------------------
# Levenshtein
# --------------------------------------------------------------------------


def levenshtein(a: Sequence, b: Sequence) -> int:
    """Edit distance (unit-cost insert, delete, substitute) between a and b."""
    if a == b:
        return 0
    # Common prefix and suffix never change the distance.
    start = 0
    n = min(len(a), len(b))
    while start < n and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a = a[start:end_a]
    b = b[start:end_b]
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    # One row over the shorter string.
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        left = i
        for j, cb in enumerate(b, 1):
            diag = prev[j - 1] + (ca != cb)
            up = prev[j] + 1
            best = left + 1
            if up < best:
                best = up
            if diag < best:
                best = diag
            cur.append(best)
            left = best
        prev = cur
    return prev[-1]


# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------

_WS = re.compile(r"\s+")


def is_cjk(ch: str) -> bool:
    """CJK ideographs and CJK/full-width punctuation."""
    o = ord(ch)
    return (
        0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x2FA1F
        or 0x3000 <= o <= 0x303F  # CJK symbols and punctuation
        or 0xFF00 <= o <= 0xFFEF  # half/full-width forms
        or 0x2018 <= o <= 0x201F  # curly quotes used in Chinese text
    )


def has_cjk(text: str) -> bool:
    return any(is_cjk(c) for c in text)


def normalize(text: str | None, lang: str | None = None, nfkc: bool = True) -> str:
    """Normalise text before comparison.

    * Unicode NFKC (full-width ASCII such as "，" "：" "１" becomes "," ":" "1"),
      unless nfkc=False.
    * strip, and collapse internal whitespace runs to one space.
    * lang == "zh": drop all whitespace.
    * lang is None / "auto" (used for page lines, whose language is mixed):
      drop whitespace that touches a CJK character, keep (collapsed) spaces
      between non-CJK tokens.  On pure Chinese text this equals "zh", on
      pure English text it equals "en".
    """
    if not text:
        return ""
    if nfkc:
        text = unicodedata.normalize("NFKC", text)
    text = _WS.sub(" ", text.strip())
    if lang == "zh":
        return text.replace(" ", "")
    if lang == "en":
        return text
    if " " not in text or not has_cjk(text):
        return text
    out = []
    for i, ch in enumerate(text):
        if ch == " ":
            prev = text[i - 1] if i > 0 else ""
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if (prev and is_cjk(prev)) or (nxt and is_cjk(nxt)):
                continue
        out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------


class Score:
    """Accumulates edit errors over reference characters."""

    __slots__ = ("errors", "chars", "items")

    def __init__(self, errors: int = 0, chars: int = 0, items: int = 0):
        self.errors = errors
        self.chars = chars
        self.items = items

    def add(self, errors: int, chars: int) -> None:
        self.errors += errors
        self.chars += chars
        self.items += 1

    @property
    def cer(self) -> float | None:
        if self.chars == 0:
            return None
        return self.errors / self.chars

    def as_dict(self) -> dict:
        return {"cer": self.cer, "errors": self.errors, "chars": self.chars, "items": self.items}


def line_errors(ref: str, hyp: str | None, lang: str | None = None, nfkc: bool = True):
    """(edit distance, reference length) after normalisation."""
    r = normalize(ref, lang, nfkc)
    h = normalize(hyp or "", lang, nfkc)
    return levenshtein(r, h), len(r)


def cer(refs: Iterable[str], hyps: Iterable[str], langs: Iterable[str | None] | None = None,
        nfkc: bool = True) -> float | None:
    """Corpus CER of paired lists (optionally with a language per pair)."""
    refs = list(refs)
    hyps = list(hyps)
    if len(refs) != len(hyps):
        raise ValueError("refs and hyps differ in length")
    langs = list(langs) if langs is not None else [None] * len(refs)
    s = Score()
    for r, h, lg in zip(refs, hyps, langs):
        s.add(*line_errors(r, h, lg, nfkc))
    return s.cer


def page_errors(ref_lines: Sequence[str], hyp_lines: Sequence[str], nfkc: bool = True):
    """Reading-order page comparison: (edit distance, reference length)."""
    r = [normalize(t, None, nfkc) for t in ref_lines]
    h = [normalize(t, None, nfkc) for t in hyp_lines]
    r = "\n".join(t for t in r if t)
    h = "\n".join(t for t in h if t)
    return levenshtein(r, h), len(r)


def bag_of_lines_errors(ref_lines: Sequence[str], hyp_lines: Sequence[str], nfkc: bool = True):
    """Order-free page comparison.

    Returns (edit distance, reference length, unmatched predicted lines).
    Each reference line is paired with at most one predicted line and vice
    versa, greedily by smallest edit distance (ties: reading order).
    """
    refs = [normalize(t, None, nfkc) for t in ref_lines]
    refs = [t for t in refs if t]
    hyps = [normalize(t, None, nfkc) for t in hyp_lines]
    hyps = [t for t in hyps if t]
    total = sum(len(t) for t in refs)
    pairs = []
    for i, r in enumerate(refs):
        for j, h in enumerate(hyps):
            # A pair can never beat deleting the reference line outright.
            if abs(len(r) - len(h)) >= len(r):
                continue
            d = levenshtein(r, h)
            if d < len(r):
                pairs.append((d, i, j))
    pairs.sort()
    used_r: set[int] = set()
    used_h: set[int] = set()
    errors = 0
    for d, i, j in pairs:
        if i in used_r or j in used_h:
            continue
        used_r.add(i)
        used_h.add(j)
        errors += d
    for i, r in enumerate(refs):
        if i not in used_r:
            errors += len(r)
    return errors, total, len(hyps) - len(used_h)


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


def read_jsonl(path: Path | str) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: {e}") from None
    return out


def split_predictions(records: Iterable[dict]):
    """Split a results JSONL into (line predictions, page predictions, meta).

    Line records: {"file", "text"}; page records: {"file", "lines": [str or
    {"text": ...}]}; any record with a "meta" key carries engine metadata.
    """
    lines: dict[str, str] = {}
    pages: dict[str, list[str]] = {}
    meta: dict = {}
    for rec in records:
        if "meta" in rec:
            meta.update(rec["meta"])
            continue
        f = rec.get("file")
        if f is None:
            continue
        if "lines" in rec:
            pages[f] = [x["text"] if isinstance(x, dict) else str(x) for x in rec["lines"]]
        else:
            lines[f] = rec.get("text") or ""
    return lines, pages, meta


def evaluate_lines(gt: list[dict], preds: dict[str, str], nfkc: bool = True) -> dict:
    """Scores of line predictions: by language, overall and by degradation."""
    by_lang: dict[str, Score] = {}
    by_deg: dict[str, Score] = {}
    total = Score()
    missing = 0
    exact = 0
    for rec in gt:
        f = rec["file"]
        if f not in preds:
            missing += 1
        lang = rec.get("lang")
        e, c = line_errors(rec["text"], preds.get(f, ""), lang, nfkc)
        exact += e == 0
        total.add(e, c)
        by_lang.setdefault(lang or "?", Score()).add(e, c)
        by_deg.setdefault(rec.get("degradation", "?"), Score()).add(e, c)
    return {
        "all": total.as_dict(),
        "by_lang": {k: v.as_dict() for k, v in sorted(by_lang.items())},
        "by_degradation": {k: v.as_dict() for k, v in sorted(by_deg.items())},
        "missing": missing,
        "exact": exact,
        "n": len(gt),
    }


def evaluate_pages(gt: list[dict], preds: dict[str, list[str]], nfkc: bool = True) -> dict:
    """Scores of page predictions: reading-order and bag-of-lines CER."""
    order = Score()
    bag = Score()
    by_deg: dict[str, Score] = {}
    rot = {True: Score(), False: Score()}
    missing = 0
    extra = 0
    for rec in gt:
        f = rec["file"]
        if f not in preds:
            missing += 1
        ref = [ln["text"] for ln in rec["lines"]]
        hyp = preds.get(f, [])
        e, c = page_errors(ref, hyp, nfkc)
        order.add(e, c)
        rot[bool(rec.get("rotated180"))].add(e, c)
        by_deg.setdefault(rec.get("degradation", "?"), Score()).add(e, c)
        be, bc, bx = bag_of_lines_errors(ref, hyp, nfkc)
        bag.add(be, bc)
        extra += bx
    return {
        "order": order.as_dict(),
        "bag": bag.as_dict(),
        "rotated180": rot[True].as_dict(),
        "upright": rot[False].as_dict(),
        "by_degradation": {k: v.as_dict() for k, v in sorted(by_deg.items())},
        "extra_lines": extra,
        "missing": missing,
        "n": len(gt),
    }


def evaluate(data_dir: Path, results: Path | str, nfkc: bool = True,
             limit_lines: int | None = None, limit_pages: int | None = None) -> dict:
    """Evaluate one results JSONL against data_dir's manifests.

    Only the ground-truth files that the results mention are scored when the
    run was limited (see limit_*), otherwise all of them.
    """
    lines_pred, pages_pred, meta = split_predictions(read_jsonl(results))
    out: dict = {"meta": meta}
    gt_lines = read_jsonl(data_dir / "lines.jsonl")
    gt_pages = read_jsonl(data_dir / "pages.jsonl")
    if limit_lines is not None:
        gt_lines = gt_lines[:limit_lines]
    if limit_pages is not None:
        gt_pages = gt_pages[:limit_pages]
    if lines_pred:
        out["lines"] = evaluate_lines(gt_lines, lines_pred, nfkc)
    if pages_pred:
        out["pages"] = evaluate_pages(gt_pages, pages_pred, nfkc)
    return out


def fmt_cer(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="CER of OCR predictions against the eval dataset")
    ap.add_argument("results", nargs="+", type=Path, help="results JSONL file(s)")
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parent / "data")
    ap.add_argument("--no-nfkc", action="store_true", help="compare without NFKC folding")
    ap.add_argument("--limit-lines", type=int)
    ap.add_argument("--limit-pages", type=int)
    ap.add_argument("--json", action="store_true", help="print the full scores as JSON")
    args = ap.parse_args(argv)

    all_scores = {}
    for path in args.results:
        s = evaluate(args.data, path, nfkc=not args.no_nfkc,
                     limit_lines=args.limit_lines, limit_pages=args.limit_pages)
        all_scores[str(path)] = s
        if args.json:
            continue
        print(f"== {path}")
        if "lines" in s:
            L = s["lines"]
            bl = L["by_lang"]
            print(
                f"  lines: all {fmt_cer(L['all']['cer'])}  en {fmt_cer(bl.get('en', {}).get('cer'))}"
                f"  zh {fmt_cer(bl.get('zh', {}).get('cer'))}  exact {L['exact']}/{L['n']}"
                f"  missing {L['missing']}"
            )
            print("    by degradation: " + ", ".join(
                f"{k} {fmt_cer(v['cer'])}" for k, v in L["by_degradation"].items()))
        if "pages" in s:
            P = s["pages"]
            print(
                f"  pages: order {fmt_cer(P['order']['cer'])}  bag {fmt_cer(P['bag']['cer'])}"
                f"  upright {fmt_cer(P['upright']['cer'])}  rot180 {fmt_cer(P['rotated180']['cer'])}"
                f"  extra lines {P['extra_lines']}  missing {P['missing']}"
            )
    if args.json:
        json.dump(all_scores, sys.stdout, ensure_ascii=False, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
