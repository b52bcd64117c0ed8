#!/usr/bin/env python3
"""Deterministic scan-like English OCR evaluation set (rendered and degraded, not real scans).

Book-like English text in serif book faces is typeset at 600 dpi, then put
through a simulated scanner: slight rotation, optics blur, area downsampling
to 300 dpi, paper level and texture, uneven illumination, sensor noise and
finally binarisation (global threshold near Otsu, or Sauvola), with some
images stroke-thinned/thickened, specked, or left gray.

Writes (under --out, default eval/data-scans), in make_dataset.py's format so
run_baselines.py and cer.py read it unchanged:
  lines/NNNN.png   one typeset book line per image (4-12 words), cropped 2-10 px around the ink
  lines.jsonl      {"file", "text", "lang": "en", "font", "size", "degradation", "params", ...}
  pages/NNN.png    book pages (1 column, 20-35 lines, running head or folio; some 2-column)
  pages.jsonl      {"file", "lines": [{"text", "box", ...}], "rotated180": false, "angle", ...}
  meta.json        generation parameters

Every item has its own random streams derived from --seed and its index, so
the same seed, fonts and Pillow/numpy/OpenCV versions give byte-identical
files, and --lines/--pages only add or drop items at the end.  Images are
8-bit grayscale PNGs, most of them pure black/white.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import string
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

EVAL_DIR = Path(__file__).resolve().parent
REPO = EVAL_DIR.parent

RENDER_DPI = 600
OUT_DPI = 300
SCALE = RENDER_DPI // OUT_DPI  # 2


def pt_to_px(pt: float, dpi: int = RENDER_DPI) -> int:
    return int(round(pt * dpi / 72.0))


def inch(x: float, dpi: int = RENDER_DPI) -> int:
    return int(round(x * dpi))


# --------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------

FONT_DIRS = [
    Path("/usr/share/fonts"),
    Path("/usr/share/texmf/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".fonts",
]

# family -> (regular file, italic file)
FONT_SPECS = {
    "TeX Gyre Termes": ("texgyretermes-regular.otf", "texgyretermes-italic.otf"),
    "TeX Gyre Pagella": ("texgyrepagella-regular.otf", "texgyrepagella-italic.otf"),
    "TeX Gyre Schola": ("texgyreschola-regular.otf", "texgyreschola-italic.otf"),
    "TeX Gyre Bonum": ("texgyrebonum-regular.otf", "texgyrebonum-italic.otf"),
    "DejaVu Serif": ("DejaVuSerif.ttf", "DejaVuSerif-Italic.ttf"),
    "Liberation Serif": ("LiberationSerif-Regular.ttf", "LiberationSerif-Italic.ttf"),
}


def resolve_fonts() -> dict[str, tuple[str, str]]:
    wanted = {fn for pair in FONT_SPECS.values() for fn in pair}
    found: dict[str, Path] = {}
    for d in FONT_DIRS:
        if not d.is_dir():
            continue
        for p in sorted(d.rglob("*")):
            if p.name in wanted and p.name not in found:
                found[p.name] = p
    out = {}
    for fam, (reg, ita) in FONT_SPECS.items():
        if reg in found and ita in found:
            out[fam] = (str(found[reg]), str(found[ita]))
    return out


class Fonts:
    def __init__(self, paths: dict[str, tuple[str, str]]):
        self.paths = paths
        self.families = sorted(paths)
        self._cache: dict[tuple[str, bool, int], ImageFont.FreeTypeFont] = {}

    def get(self, family: str, italic: bool, px: int) -> ImageFont.FreeTypeFont:
        key = (family, italic, px)
        f = self._cache.get(key)
        if f is None:
            f = ImageFont.truetype(self.paths[family][1 if italic else 0], px)
            self._cache[key] = f
        return f


# --------------------------------------------------------------------------
# Text: book-like English prose from word lists and a small sentence grammar
# (written for this project).  ASCII only: straight quotes, hyphens, no dashes.
# --------------------------------------------------------------------------

NAMES = """Alice Anne Arthur Benjamin Charles Clara Daniel Edith Edward Eleanor Frances
George Harriet Henry Isaac James Jane John Julia Laura Lucy Margaret Martha Mary
Matthew Nora Oliver Peter Robert Ruth Samuel Sarah Thomas Walter William Agnes
Hugh Emily Stephen Catherine""".split()
TITLED = ["Mr. Grant", "Mrs. Hale", "Dr. Moore", "Captain Ward", "Miss Lane", "Mr. Ashford",
          "Mrs. Bennett", "Colonel Hayes", "Lady Marsh", "Father Doyle", "Professor Reed"]
PLACES = """London Paris Boston York Dover Bristol Vienna Lisbon Geneva Oxford Bath Edinburgh
Dublin Naples Calais Hamburg Quebec Lyons Antwerp Florence Chester Salisbury""".split()
MONTHS = """January February March April May June July August September October November
December""".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

NOUNS = """house door window road river garden field hill morning evening night letter book
table room fire voice face hand street town village church bridge wall gate tree wind rain
sea shore boat ship harbour station train carriage horse dog path lane valley forest stone
kitchen parlour staircase corner lamp candle chair bed coat hat glass cup bottle paper pen
clock bell roof chimney yard orchard meadow cottage farm mill market inn shop office bank
school library study desk drawer box key lock map journey silence moment hour year season
summer winter autumn spring sky cloud star moon sun light shadow darkness mist snow frost
storm question answer reason story secret promise quarrel bargain fortune debt estate will
portrait mirror piano song sermon newspaper telegram message visitor stranger servant
doctor lawyer captain sailor soldier farmer clerk widow child daughter son brother sister
mother father uncle aunt cousin neighbour friend husband wife master gentleman lady girl
boy man woman crowd family heart mind memory name matter business trouble affair plan""".split()
PLURAL_NOUNS = """eyes hands trees fields houses letters books years men women children people
friends horses windows streets hills stones papers voices days hours minutes weeks months
servants guests boats ships roofs lamps candles flowers leaves birds clouds stars doors
rooms walls fences pages words questions reasons stories thoughts footsteps shoulders
gloves boots coins debts accounts neighbours brothers sisters cousins soldiers sailors""".split()
ADJS = """old young small great long little dark bright cold warm quiet narrow broad heavy
empty pale grey green white black red brown tall low high strange familiar distant ancient
wet dry thin thick bitter gentle sudden silent open wooden iron golden faint steady careful
patient weary curious simple plain common private public early late final whole broken
hidden crooked proper honest handsome anxious solemn cheerful polite foolish clever
dreadful pleasant lonely dusty muddy sharp soft rough rich poor grave idle eager""".split()
COMPOUNDS = """well-known old-fashioned half-open so-called long-forgotten grey-haired
self-evident good-natured ill-tempered first-rate low-ceilinged red-brick half-hearted
broad-shouldered twenty-five forty-two thirty-one ninety-nine well-meaning hard-working
near-sighted open-mouthed rain-soaked sun-baked wind-swept to-morrow""".split()
VERBS_T = """took found opened closed heard saw watched followed reached crossed left held
carried read wrote answered remembered noticed touched lifted raised pushed pulled kept
brought bought sold built painted mended visited passed entered climbed received sent
called met knew loved missed studied examined folded signed burned hid lost counted""".split()
VERBS_I = """walked turned waited smiled laughed paused stopped hesitated returned arrived
sat stood slept listened nodded sighed spoke rose lay stayed wondered shivered trembled
frowned whispered shouted agreed refused vanished lingered""".split()
VERB_PHRASES_I = ["went on", "looked up", "looked away", "fell silent", "came back",
                  "went out", "sat down", "got up", "turned away", "came in", "set off"]
ADVS = """slowly quietly suddenly again carefully gently presently still never always perhaps
almost quite rather softly briskly gravely patiently abruptly""".split()
ADV_PHRASES = ["at once", "for a moment", "at last", "once more", "without a word",
               "in silence", "after a while", "of course", "by chance", "in the end"]
PREPS = """in on at by with from into over under across through toward beside along behind
before after against near beyond upon""".split()
TIME_PHRASES = ["in the morning", "at dawn", "by evening", "that night", "the next day",
                "before noon", "after dinner", "in the spring", "all that winter",
                "early in the afternoon", "late in the evening", "a week later"]
SPEECH = [
    "I don't know", "It's too late now", "We'll see", "You can't be serious", "Come in",
    "That's all I can tell you", "I'm afraid not", "Let's go home", "There's no one here",
    "It wasn't my fault", "I couldn't help it", "I'd rather not say", "You needn't wait",
    "Nobody's seen him since", "She'll be back by {n} o'clock", "Don't be a fool",
    "He won't come", "It isn't far", "We haven't much time", "I shan't forget it",
    "You'd better sit down", "That's the {noun} I told you about", "I've lost the {noun}",
    "They're waiting at the {noun}", "Isn't it strange", "Who's there", "What's the matter",
]
QUESTIONS = ["Where have you been", "What do you mean", "Why didn't you tell me",
             "Is it true", "Did you see the {noun}", "How long have you known",
             "What's become of {name}", "Can't you see", "Who told you that",
             "Have you read the {noun}"]
SAID = ["said", "asked", "replied", "answered", "cried", "whispered", "murmured",
        "went on", "added", "said quietly"]
CONJ = ["and", "but", "for", "yet", "so"]
SUBCONJ = ["while", "though", "when", "as", "until", "because", "although", "since",
           "before", "after"]
NUM_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "ten", "twelve",
             "twenty", "a hundred", "a few", "several"]
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII",
         "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX", "XXI", "XXII", "XXIV", "XXVII"]

ALLOWED = set(string.printable[:95])  # ASCII letters, digits, punctuation and space


def _a(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" and not word.startswith(("one", "eu", "use")) else "a"


def _cap(s: str) -> str:
    """Upper-case the first letter, after any leading quote or bracket (not after a digit)."""
    for i, ch in enumerate(s):
        if ch.isalpha():
            return s[:i] + ch.upper() + s[i + 1:]
        if ch.isdigit():
            return s
    return s


def _thousands(n: int) -> str:
    return f"{n:,}"


class Prose:
    """Sentences and paragraphs of book-like English."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def name(self) -> str:
        r = self.rng
        return r.choice(TITLED) if r.random() < 0.3 else r.choice(NAMES)

    def noun(self) -> str:
        return self.rng.choice(NOUNS)

    def adj(self) -> str:
        r = self.rng
        return r.choice(COMPOUNDS) if r.random() < 0.12 else r.choice(ADJS)

    def np(self, subject: bool = False) -> str:
        r = self.rng
        x = r.random()
        if x < 0.10:
            return self.name()
        if x < 0.17:
            return f"{self.name()}'s {self.noun()}"
        if x < 0.32:
            det = r.choice(["the", "their", "his", "her", "those", "some"] + NUM_WORDS)
            adj = (self.adj() + " ") if r.random() < 0.35 else ""
            return f"{det} {adj}{r.choice(PLURAL_NOUNS)}"
        adj = (self.adj() + " ") if r.random() < 0.4 else ""
        det = r.choice(["the", "the", "the", "a", "his", "her", "their", "this", "that", "my",
                        "every", "no", "one"])
        head = adj + self.noun()
        if det == "a":
            det = _a(head)
        if r.random() < 0.06:
            det = "the " + r.choice(["captain's", "doctor's", "widow's", "old man's",
                                     "children's", "servants'"])
        return f"{det} {head}"

    def subject(self) -> str:
        r = self.rng
        return r.choice(["he", "she", "they", "I", "we", "he", "she"]) if r.random() < 0.45 else self.np(True)

    def pp(self) -> str:
        return f"{self.rng.choice(PREPS)} {self.np()}"

    def number_phrase(self) -> str:
        r = self.rng
        k = r.randrange(11)
        if k == 0:
            return f"in {r.randint(1760, 1955)}"
        if k == 1:
            return f"on the {r.randint(1, 28)}th of {r.choice(MONTHS)}"
        if k == 2:
            return f"{r.choice(MONTHS)} {r.randint(1, 28)}, {r.randint(1790, 1950)}"
        if k == 3:
            return f"some {_thousands(r.randint(12, 90) * 100)} acres"
        if k == 4:
            return f"nearly {r.randint(3, 60)} miles"
        if k == 5:
            return f"at {r.randint(1, 12)} o'clock"
        if k == 6:
            return f"No. {r.randint(2, 140)} {r.choice(['High Street', 'Church Lane', 'Market Row', 'Queen Street'])}"
        if k == 7:
            return f"on page {r.randint(12, 480)}"
        if k == 8:
            return f"{r.randint(2, 19)} feet high"
        if k == 9:
            return f"for ${r.randint(2, 90)}.{r.randint(0, 99):02d}"
        return f"{_thousands(r.randint(11, 99) * r.choice([10, 100, 1000]))} pounds"

    def vp(self) -> str:
        r = self.rng
        x = r.random()
        if x < 0.45:
            s = f"{r.choice(VERBS_T)} {self.np()}"
        elif x < 0.7:
            s = r.choice(VERBS_I)
        else:
            s = r.choice(VERB_PHRASES_I)
        if r.random() < 0.25:
            s += " " + (r.choice(ADVS) if r.random() < 0.6 else r.choice(ADV_PHRASES))
        if r.random() < 0.45:
            s += " " + self.pp()
        if r.random() < 0.12:
            s += " " + self.number_phrase()
        return s

    def clause(self) -> str:
        return f"{self.subject()} {self.vp()}"

    def _fill(self, s: str) -> str:
        return s.format(n=self.rng.randint(2, 11), noun=self.noun(), name=self.rng.choice(NAMES))

    def dialogue(self) -> str:
        r = self.rng
        who = self.name() if r.random() < 0.6 else r.choice(["he", "she"])
        if r.random() < 0.35:
            q = self._fill(r.choice(QUESTIONS))
            return f'"{q}?" {r.choice(["asked", "said", "cried"])} {who}.'
        line = self._fill(r.choice(SPEECH))
        if r.random() < 0.3:
            more = self._fill(r.choice(SPEECH))
            if not re.match(r"I\b", more):  # keep "I", "I'm", "I'd" capitalised
                more = more[0].lower() + more[1:]
            return f'"{line}," {who} {r.choice(SAID)}, "{more}."'
        end = r.choice([",", ",", ",", "!"])
        tail = f"{who} {r.choice(SAID)}" if r.random() < 0.7 else f"{r.choice(SAID)} {who}"
        if end == "!":
            return f'"{line}!" {tail}.'
        return f'"{line}," {tail}.'

    def sentence(self) -> str:
        r = self.rng
        x = r.random()
        if x < 0.15:
            s = self.dialogue()
            return s[0] + _cap(s[1:]) if s.startswith('"') else _cap(s)
        if x < 0.35:
            s = f"{self.clause()}, {r.choice(CONJ)} {self.clause()}"
        elif x < 0.47:
            lead = r.choice(TIME_PHRASES) if r.random() < 0.6 else self.pp()
            s = f"{lead}, {self.clause()}"
        elif x < 0.57:
            s = f"{self.clause()} {r.choice(SUBCONJ)} {self.clause()}"
        elif x < 0.64:
            s = f"{self.clause()}; {self.clause()}"
        elif x < 0.69:
            s = f"{self.clause()} ({r.choice(['as', 'so', 'or so'])} {self.clause()})"
        elif x < 0.74:
            s = f"{self.clause()}: {self.np()}, {self.np()} and {self.np()}"
        elif x < 0.78:
            s = f"{self.number_phrase()} {self.clause()}"
        elif x < 0.81:
            s = f"it was {self.adj()}, {r.choice(['he thought', 'she said', 'they say', 'I suppose'])}"
        elif x < 0.83:
            s = f"'{r.choice(['Never', 'Perhaps', 'Tomorrow', 'Not yet'])},' {r.choice(['was all', 'said'])} {self.name()}"
        else:
            s = self.clause()
        s = _cap(s)
        end = "." if r.random() < 0.9 else r.choice(["!", "?", "..."])
        return s + end

    def paragraph(self, lo: int = 2, hi: int = 7) -> list[str]:
        words: list[str] = []
        for _ in range(self.rng.randint(lo, hi)):
            words += self.sentence().split()
        for w in words:
            assert set(w) <= ALLOWED, w
        return words

    def title(self) -> str:
        r = self.rng
        k = r.randrange(4)
        if k == 0:
            return f"The {_cap(r.choice(ADJS))} {_cap(self.noun())}"
        if k == 1:
            return f"{r.choice(NAMES)} and the {_cap(self.noun())}"
        if k == 2:
            return f"A {_cap(self.noun())} in {r.choice(PLACES)}"
        return f"The {_cap(self.noun())} of {r.choice(PLACES)}"


# --------------------------------------------------------------------------
# Typesetting
# --------------------------------------------------------------------------


@dataclass
class Tok:
    text: str
    italic: bool = False


@dataclass
class SetLine:
    toks: list[Tok]
    indent: int = 0          # px at 600 dpi
    justify: bool = False
    par_start: bool = False
    par_end: bool = False
    align: str = "left"      # left | center | right
    family: str = ""
    px: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return " ".join(t.text for t in self.toks)


_HYPH_OK = re.compile(r"^([A-Za-z]+)([,.;:!?\"')]*)$")


def tok_width(fonts: Fonts, family: str, px: int, t: Tok) -> float:
    return fonts.get(family, t.italic, px).getlength(t.text)


def typeset(paragraphs, fonts: Fonts, family: str, px: int, measure: int, rng: random.Random,
            justify: bool, indent: int, hyphenate: float, first_indent: bool = True):
    """Greedy line breaking of a stream of paragraphs (lists of Tok); yields SetLine."""
    space = fonts.get(family, False, px).getlength(" ")
    first = True
    for par in paragraphs:
        toks = list(par)
        ind = indent if (first_indent or not first) else 0
        first = False
        line: list[Tok] = []
        width = 0.0
        start = True
        i = 0
        while i < len(toks):
            t = toks[i]
            w = tok_width(fonts, family, px, t)
            avail = measure - (ind if start else 0)
            need = w if not line else width + space + w
            if need <= avail or not line:
                line.append(t)
                width = need
                i += 1
                continue
            # t does not fit: try to hyphenate it
            rest = avail - width - space
            m = _HYPH_OK.match(t.text)
            split = None
            if "-" in t.text[1:-1] and rng.random() < 0.8:
                k = t.text.index("-", 1) + 1
                if tok_width(fonts, family, px, Tok(t.text[:k], t.italic)) <= rest:
                    split = (t.text[:k], t.text[k:])
            elif m and len(m.group(1)) >= 7 and rng.random() < hyphenate:
                core, tail = m.group(1), m.group(2)
                for k in range(len(core) - 3, 2, -1):
                    head = core[:k] + "-"
                    if tok_width(fonts, family, px, Tok(head, t.italic)) <= rest:
                        split = (head, core[k:] + tail)
                        break
            if split:
                line.append(Tok(split[0], t.italic))
                toks[i] = Tok(split[1], t.italic)
            yield SetLine(line, indent=ind if start else 0, justify=justify, par_start=start,
                          family=family, px=px)
            start = False
            line, width = [], 0.0
        if line:
            yield SetLine(line, indent=ind if start else 0, justify=False, par_start=start,
                          par_end=True, family=family, px=px)


def italicize(words: list[str], rng: random.Random, p_run: float) -> list[Tok]:
    toks = []
    run = 0
    for w in words:
        if run == 0 and rng.random() < p_run:
            run = rng.randint(1, 4)
        toks.append(Tok(w, run > 0))
        run = max(0, run - 1)
    return toks


def draw_line(draw: ImageDraw.ImageDraw, fonts: Fonts, ln: SetLine, x0: int, baseline: int,
              measure: int) -> list[int] | None:
    """Draw a typeset line; return its ink box [x0, y0, x1, y1] (600 dpi)."""
    space = fonts.get(ln.family, False, ln.px).getlength(" ")
    widths = [tok_width(fonts, ln.family, ln.px, t) for t in ln.toks]
    natural = sum(widths) + space * (len(widths) - 1)
    avail = measure - ln.indent
    gap = space
    if ln.justify and len(widths) > 1:
        g = space + (avail - natural) / (len(widths) - 1)
        if g <= space * 3.0:
            gap = max(space, g)
    if ln.align == "center":
        x = x0 + (measure - natural) / 2.0
    elif ln.align == "right":
        x = x0 + measure - natural
    else:
        x = x0 + ln.indent
    box = None
    for t, w in zip(ln.toks, widths):
        f = fonts.get(ln.family, t.italic, ln.px)
        xy = (int(round(x)), baseline)
        draw.text(xy, t.text, font=f, fill=0, anchor="ls")
        b = draw.textbbox(xy, t.text, font=f, anchor="ls")
        if b[2] > b[0]:
            box = list(b) if box is None else [min(box[0], b[0]), min(box[1], b[1]),
                                               max(box[2], b[2]), max(box[3], b[3])]
        x += w + gap
    return box


# --------------------------------------------------------------------------
# Simulated scanner
# --------------------------------------------------------------------------


def rotation(angle: float, w: int, h: int, expand: bool):
    """2x3 affine rotating a w x h image by angle degrees (counter-clockwise on screen)."""
    M = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    if not expand:
        return M, w, h
    c, s = abs(M[0, 0]), abs(M[0, 1])
    nw = int(math.ceil(w * c + h * s))
    nh = int(math.ceil(w * s + h * c))
    nw += nw % 2
    nh += nh % 2
    M[0, 2] += nw / 2.0 - w / 2.0
    M[1, 2] += nh / 2.0 - h / 2.0
    return M, nw, nh


def transform_box(box, M, scale: float, w: int, h: int) -> list[int]:
    x0, y0, x1, y1 = box
    pts = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], dtype=np.float64)
    q = pts @ M.T / scale
    return [
        max(0, int(math.floor(q[:, 0].min()))),
        max(0, int(math.floor(q[:, 1].min()))),
        min(w, int(math.ceil(q[:, 0].max()))),
        min(h, int(math.ceil(q[:, 1].max()))),
    ]


def otsu_threshold(a: np.ndarray) -> int:
    hist = np.bincount(a.ravel(), minlength=256).astype(np.float64)
    p = hist / hist.sum()
    omega = np.cumsum(p)
    mu = np.cumsum(p * np.arange(256))
    mu_t = mu[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        sb = (mu_t * omega - mu) ** 2 / (omega * (1.0 - omega))
    sb = np.nan_to_num(sb, nan=0.0, posinf=0.0)
    return int(np.argmax(sb))


def sauvola(g: np.ndarray, window: int, k: float, R: float = 128.0) -> np.ndarray:
    g = g.astype(np.float64)
    m = cv2.boxFilter(g, -1, (window, window), borderType=cv2.BORDER_REFLECT)
    m2 = cv2.boxFilter(g * g, -1, (window, window), borderType=cv2.BORDER_REFLECT)
    s = np.sqrt(np.maximum(m2 - m * m, 0.0))
    t = m * (1.0 + k * (s / R - 1.0))
    return np.where(g > t, 255, 0).astype(np.uint8)


def smooth_field(nrng: np.random.Generator, h: int, w: int, cells: tuple[int, int]) -> np.ndarray:
    """Low-frequency random field with unit standard deviation (roughly)."""
    small = nrng.normal(0.0, 1.0, size=cells).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def choose_degradation(rng: random.Random, kind: str) -> dict:
    """All random choices of the scanner simulation for one image."""
    p: dict = {}
    r = rng.random()
    p["stroke"] = "thin" if r < 0.15 else ("thick" if r < 0.30 else "none")
    p["angle"] = round(rng.uniform(-0.8, 0.8), 2)
    p["blur_sigma"] = round(rng.uniform(0.6, 1.5), 2)
    p["edge_noise"] = round(rng.uniform(0.03, 0.15), 3)
    p["paper"] = rng.randint(205, 245)
    p["ink"] = rng.randint(15, 70)
    p["illum"] = round(rng.uniform(4.0, 20.0), 1)
    p["noise_sigma"] = round(rng.uniform(2.0, 8.0), 1)
    p["texture"] = round(rng.uniform(2.0, 8.0), 1)
    if kind == "page":
        if rng.random() < 0.25:
            p["gutter"] = {"side": rng.choice(["left", "right"]),
                           "depth": rng.randint(30, 90), "width": rng.randint(40, 140)}
        if rng.random() < 0.25:
            p["showthrough"] = {"level": rng.randint(10, 30),
                                "blur": round(rng.uniform(1.5, 3.0), 2),
                                "dx": rng.randint(-60, 60), "dy": rng.randint(-40, 40)}
    r = rng.random()
    if r < 0.10:
        p["binarize"] = "gray"
    elif r < 0.62:
        p["binarize"] = "otsu"
        # lower threshold = thinner strokes; do not stack it on a thinned stroke (or vice versa)
        lo, hi = {"thin": (-5, 20), "thick": (-20, 5)}.get(p["stroke"], (-20, 20))
        p["threshold_offset"] = rng.randint(lo, hi)
    else:
        p["binarize"] = "sauvola"
        p["window"] = rng.choice(range(25, 52, 2))
        p["k"] = round(rng.uniform(0.15, 0.35), 2)
    if rng.random() < 0.25:
        p["specks"] = {"pepper": round(rng.uniform(1e-4, 8e-4), 5),
                       "salt": round(rng.uniform(5e-4, 4e-3), 5)}
    return p


def degradation_key(p: dict) -> str:
    return p["binarize"] + ("" if p["stroke"] == "none" else "+" + p["stroke"])


def scan(img600: Image.Image, p: dict, nrng: np.random.Generator, expand: bool):
    """Simulated scan of a clean 600-dpi render (white 255, black 0).

    Returns (300-dpi uint8 image before specks, affine M at 600 dpi, clean
    300-dpi ink coverage in [0, 1] after rotation, blur and downsampling).
    """
    a = np.asarray(img600, dtype=np.uint8)
    if p["stroke"] != "none":
        kernel = np.ones((2, 2), np.uint8)  # strokes one pixel wider or narrower at 600 dpi
        a = cv2.erode(a, kernel) if p["stroke"] == "thick" else cv2.dilate(a, kernel)
    h, w = a.shape
    M, nw, nh = rotation(p["angle"], w, h, expand)
    a = cv2.warpAffine(a.astype(np.float32) / 255.0, M, (nw, nh), flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=1.0)
    a = cv2.GaussianBlur(a, (0, 0), p["blur_sigma"])
    size = (nw // SCALE, nh // SCALE)
    ink_cover = 1.0 - cv2.resize(a, size, interpolation=cv2.INTER_AREA)  # 0 paper, 1 ink
    # print/scan edge roughness: fine-grained noise that only matters where a stroke edge
    # is near the threshold
    rough = cv2.GaussianBlur(nrng.normal(0.0, 1.0, size=a.shape).astype(np.float32), (0, 0), 1.0)
    a += p["edge_noise"] * rough / max(float(rough.std()), 1e-6)
    v = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
    H, W = v.shape

    paper, ink = float(p["paper"]), float(p["ink"])
    g = ink + (paper - ink) * v
    if "showthrough" in p:
        st = p["showthrough"]
        back = cv2.GaussianBlur(np.ascontiguousarray(ink_cover[:, ::-1]), (0, 0), st["blur"])
        back = np.roll(back, (st["dy"], st["dx"]), axis=(0, 1))
        g -= st["level"] * back * v  # only visible on paper
    # uneven illumination: a tilt plus blotches, amplitude p["illum"] levels
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    tilt = nrng.uniform(-1.0, 1.0, size=2)
    cells = (max(2, H // 400 + 2), max(2, W // 400 + 2))
    illum = (tilt[0] * (xx / max(W - 1, 1) - 0.5) + tilt[1] * (yy / max(H - 1, 1) - 0.5)
             + 0.5 * smooth_field(nrng, H, W, cells))
    g += p["illum"] * illum
    if "gutter" in p:
        gt = p["gutter"]
        dist = xx if gt["side"] == "left" else (W - 1 - xx)
        g -= gt["depth"] * np.exp(-dist / gt["width"])
    # paper texture (fibres, a few pixels wide) and sensor noise
    tex = cv2.GaussianBlur(nrng.normal(0.0, 1.0, size=(H, W)).astype(np.float32), (0, 0), 1.5)
    tex /= max(float(tex.std()), 1e-6)
    g += p["texture"] * tex * v
    g += nrng.normal(0.0, p["noise_sigma"], size=(H, W)).astype(np.float32)
    g8 = np.clip(np.rint(g), 0, 255).astype(np.uint8)

    if p["binarize"] == "otsu":
        t0 = otsu_threshold(g8)
        t = int(np.clip(t0 + p["threshold_offset"], 1, 254))
        p["otsu"] = t0
        p["threshold"] = t
        out = np.where(g8 > t, 255, 0).astype(np.uint8)
    elif p["binarize"] == "sauvola":
        out = sauvola(g8, p["window"], p["k"])
    else:
        out = g8
    return out, M, ink_cover


def add_specks(out: np.ndarray, p: dict, nrng: np.random.Generator) -> np.ndarray:
    """Dust (dark specks of 1-2 px) and dropouts (white pixels in the ink)."""
    sp = p.get("specks")
    if not sp:
        return out
    H, W = out.shape
    dark = int(p["ink"]) if p["binarize"] == "gray" else 0
    light = int(p["paper"]) if p["binarize"] == "gray" else 255
    seeds = (nrng.random((H, W)) < sp["pepper"]).astype(np.uint8)
    big = (nrng.random((H, W)) < 0.35).astype(np.uint8) & seeds
    pepper = seeds | cv2.dilate(big, np.ones((2, 2), np.uint8))
    salt = nrng.random((H, W)) < sp["salt"]
    out = out.copy()
    is_ink = out < 128
    out[salt & is_ink] = light
    out[pepper.astype(bool)] = dark
    return out


# --------------------------------------------------------------------------
# Line images
# --------------------------------------------------------------------------


def make_line(i: int, seed: int, fonts: Fonts):
    rng = random.Random(f"{seed}:line:{i}")
    nrng = np.random.default_rng([seed, 1, i])
    prose = Prose(rng)
    family = rng.choice(fonts.families)
    italic = rng.random() < 0.10
    pt = rng.choice([9, 9.5, 10, 10.5, 11, 11.5, 12])
    px = pt_to_px(pt)
    justify = rng.random() < 0.7
    # a measure that gives lines of about 4-12 words at this size
    measure = int(px * rng.uniform(14.0, 30.0))
    paragraphs = (italicize(prose.paragraph(3, 6), rng, 0.0) for _ in iter(int, 1))
    chosen = None
    for n, ln in enumerate(typeset(paragraphs, fonts, family, px, measure, rng, justify,
                                   indent=int(px * 1.2), hyphenate=0.9 if justify else 0.2)):
        if n > 200:
            break
        words = len(ln.toks)
        if not (4 <= words <= 12):
            continue
        # mostly full lines from inside a paragraph, like most of a book's lines
        if (ln.par_end or ln.par_start) and rng.random() < 0.75:
            continue
        if rng.random() < 0.35:
            chosen = ln
            break
    assert chosen is not None
    ln = chosen
    ln.toks = [Tok(t.text, italic) for t in ln.toks]
    ln.indent = 0
    f = fonts.get(family, italic, px)
    ascent, descent = f.getmetrics()
    margin = 96
    width = measure + 2 * margin
    width += width % 2
    height = ascent + descent + 2 * margin
    height += height % 2
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    box = draw_line(draw, fonts, ln, margin, margin + ascent, measure)

    p = choose_degradation(rng, "line")
    out, M, cover = scan(img, p, nrng, expand=True)
    ys, xs = np.nonzero(cover > 0.5)
    if len(xs) == 0:  # cannot happen with real text; fall back to the geometric box
        x0, y0, x1, y1 = transform_box(box, M, SCALE, out.shape[1], out.shape[0])
    else:
        x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    pad = [rng.randint(2, 10) for _ in range(4)]
    H, W = out.shape
    crop = out[max(0, y0 - pad[1]):min(H, y1 + pad[3]), max(0, x0 - pad[0]):min(W, x1 + pad[2])]
    crop = add_specks(crop, p, nrng)
    p["pad"] = pad
    rec = {
        "text": ln.text,
        "lang": "en",
        "font": family + (" Italic" if italic else ""),
        "size": pt_to_px(pt, OUT_DPI),
        "pt": pt,
        "italic": italic,
        "justified": bool(ln.justify),
        "degradation": degradation_key(p),
        "params": p,
    }
    return Image.fromarray(np.ascontiguousarray(crop), mode="L"), rec


# --------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------


def page_paragraphs(prose: Prose, rng: random.Random, p_italic: float):
    while True:
        yield italicize(prose.paragraph(2, 7), rng, p_italic)


def make_page(i: int, seed: int, fonts: Fonts):
    rng = random.Random(f"{seed}:page:{i}")
    nrng = np.random.default_rng([seed, 2, i])
    prose = Prose(rng)
    family = rng.choice(fonts.families)
    two_col = i % 7 == 3  # pages 4, 11, 18
    page_no = rng.randint(7, 380)
    recto = page_no % 2 == 1
    entries: list[tuple[SetLine, int, int, int]] = []  # (line, x0, baseline, measure)

    if two_col:
        W, H = inch(7.0), inch(10.0)
        ml = mr = inch(rng.uniform(0.6, 0.8))
        top, bottom = inch(rng.uniform(0.7, 0.9)), inch(rng.uniform(0.8, 1.0))
        pt = rng.choice([9, 9.5, 10, 10.5])
        justify = rng.random() < 0.8
        layout = "2col"
    else:
        W, H = inch(5.5), inch(8.5)
        inner, outer = inch(rng.uniform(0.75, 0.95)), inch(rng.uniform(0.6, 0.8))
        ml, mr = (inner, outer) if recto else (outer, inner)
        top, bottom = inch(rng.uniform(0.6, 0.8)), inch(rng.uniform(0.75, 1.0))
        pt = rng.choice([9.5, 10, 10.5, 11, 11.5, 12])
        justify = rng.random() < 0.75
        layout = "1col"
    px = pt_to_px(pt)
    leading = int(round(px * rng.uniform(1.15, 1.3)))
    measure = W - ml - mr
    indent = int(px * rng.uniform(1.0, 1.6))
    y = top
    folio = "bottom"
    small_px = pt_to_px(max(8.0, pt - 1.5))

    def simple(text: str, fam_px: int, align: str, italic: bool = False) -> SetLine:
        return SetLine([Tok(w, italic) for w in text.split()], align=align, family=family,
                       px=fam_px)

    chapter = False
    if two_col:
        title_px = pt_to_px(rng.choice([14, 16, 18]))
        title = prose.title()
        y += title_px
        entries.append((simple(title, title_px, "center"), ml, y, measure))
        y += int(title_px * 0.6)
        if rng.random() < 0.6:
            by_px = pt_to_px(pt + 0.5)
            y += int(by_px * 1.3)
            entries.append((simple(f"by {rng.choice(NAMES)} {_cap(rng.choice(NOUNS))}s",
                                   by_px, "center", True), ml, y, measure))
        y += leading * 2
    else:
        r = rng.random()
        if r < 0.15:
            chapter = True
            y += inch(rng.uniform(0.8, 1.4))
            ch_px = pt_to_px(rng.choice([14, 16, 18]))
            entries.append((simple(f"CHAPTER {rng.choice(ROMAN)}", ch_px, "center"), ml, y, measure))
            if rng.random() < 0.6:
                t_px = pt_to_px(pt + 2)
                y += int(t_px * 1.8)
                entries.append((simple(prose.title(), t_px, "center", True), ml, y, measure))
            y += leading * 3
        elif r < 0.75:
            folio = "head"
            head = prose.title()
            if rng.random() < 0.5:
                head, head_italic = head.upper(), False
            else:
                head_italic = True
            y += small_px
            head_line = simple(head, small_px, "center", head_italic)
            num_line = simple(str(page_no), small_px, "right" if recto else "left")
            if recto:
                entries += [(head_line, ml, y, measure), (num_line, ml, y, measure)]
            else:
                entries += [(num_line, ml, y, measure), (head_line, ml, y, measure)]
            y += int(leading * rng.uniform(1.8, 2.6))
        else:
            y += px

    body_bottom = H - bottom
    p_italic = 0.02 if rng.random() < 0.5 else 0.0
    section_break = (not two_col) and rng.random() < 0.12
    columns = 2 if two_col else 1
    gutter = inch(rng.uniform(0.25, 0.35))
    col_w = (measure - gutter) // 2 if two_col else measure
    stream = typeset(page_paragraphs(prose, rng, p_italic), fonts, family, px, col_w, rng,
                     justify, indent, hyphenate=0.9 if justify else 0.15)
    if not chapter:
        for _ in range(rng.randint(0, 4)):  # start the page mid-paragraph
            next(stream)
    y_body = y
    for c in range(columns):
        x0 = ml + c * (col_w + gutter)
        fit = (body_bottom - y_body) // leading
        n = min(fit, rng.randint(20, 35) if not two_col else rng.randint(22, 34))
        if chapter:
            n = min(fit, rng.randint(16, 24))
        yb = y_body + px
        k = 0
        while k < n:
            if section_break and c == 0 and k == n // 2:
                entries.append((simple("* * *", px, "center"), x0, yb, col_w))
                yb += leading * 2
                k += 2
                stream = typeset(page_paragraphs(prose, rng, p_italic), fonts, family, px, col_w,
                                 rng, justify, indent, hyphenate=0.9 if justify else 0.15,
                                 first_indent=False)
                continue
            entries.append((next(stream), x0, yb, col_w))
            yb += leading
            k += 1
    if folio == "bottom" and (two_col or chapter or rng.random() < 0.7):
        entries.append((simple(str(page_no), small_px, "center"), ml,
                        H - bottom + int(leading * 1.8), measure))

    img = Image.new("L", (W, H), 255)
    draw = ImageDraw.Draw(img)
    lines = []
    for ln, x0, base, meas in entries:
        box = draw_line(draw, fonts, ln, x0, base, meas)
        if box is None:
            continue
        lines.append({"text": ln.text, "box600": box, "font": family, "size": pt_to_px(ln.px * 72 / RENDER_DPI, OUT_DPI),
                      "italic": any(t.italic for t in ln.toks)})

    p = choose_degradation(rng, "page")
    out, M, _ = scan(img, p, nrng, expand=False)
    out = add_specks(out, p, nrng)
    Ho, Wo = out.shape
    for ln in lines:
        ln["box"] = transform_box(ln.pop("box600"), M, SCALE, Wo, Ho)
        ln["lang"] = "en"
    lines = [{"text": ln["text"], "box": ln["box"], "lang": "en", "font": ln["font"],
              "size": ln["size"], "italic": ln["italic"]} for ln in lines]
    rec = {
        "lines": lines,
        "rotated180": False,
        "angle": p["angle"],
        "lang": "en",
        "layout": layout + ("-justified" if justify else "-ragged") + ("+chapter" if chapter else ""),
        "font": family,
        "pt": pt,
        "degradation": degradation_key(p),
        "params": p,
        "width": Wo,
        "height": Ho,
    }
    return Image.fromarray(out, mode="L"), rec


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def check_dictionary(texts) -> None:
    """Warn about characters missing from PP-OCR's dictionary (if the keys file is present)."""
    keys_file = REPO / "models" / "rec_keys.txt"
    if not keys_file.exists():
        return
    keys = set(keys_file.read_text(encoding="utf-8").split("\n")) | {" "}
    bad = sorted({c for t in texts for c in t if c not in keys})
    if bad:
        print(f"warning: characters not in {keys_file}: {bad}", file=sys.stderr)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=EVAL_DIR / "data-scans")
    ap.add_argument("--lines", type=int, default=300)
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--seed", type=int, default=20261205)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    paths = resolve_fonts()
    missing = [n for n in FONT_SPECS if n not in paths]
    if missing:
        print(f"warning: fonts not found: {', '.join(missing)}", file=sys.stderr)
    if not paths:
        print("error: no serif fonts; apt-get install fonts-texgyre fonts-dejavu-core "
              "fonts-liberation", file=sys.stderr)
        return 2
    fonts = Fonts(paths)
    out: Path = args.out
    (out / "lines").mkdir(parents=True, exist_ok=True)
    (out / "pages").mkdir(parents=True, exist_ok=True)

    texts = []
    with open(out / "lines.jsonl", "w", encoding="utf-8") as fh:
        for i in range(args.lines):
            img, rec = make_line(i, args.seed, fonts)
            name = f"lines/{i + 1:04d}.png"
            img.save(out / name)
            texts.append(rec["text"])
            fh.write(json.dumps({"file": name, **rec}, ensure_ascii=False) + "\n")
    t_lines = time.perf_counter() - t0

    with open(out / "pages.jsonl", "w", encoding="utf-8") as fh:
        for i in range(args.pages):
            img, rec = make_page(i, args.seed, fonts)
            name = f"pages/{i + 1:03d}.png"
            img.save(out / name)
            texts += [ln["text"] for ln in rec["lines"]]
            fh.write(json.dumps({"file": name, **rec}, ensure_ascii=False) + "\n")
    check_dictionary(texts)

    meta = {
        "generator": "eval/make_scans.py",
        "seed": args.seed,
        "lines": args.lines,
        "pages": args.pages,
        "render_dpi": RENDER_DPI,
        "output_dpi": OUT_DPI,
        "fonts": {n: {"regular": r, "italic": it} for n, (r, it) in sorted(paths.items())},
        "pillow": Image.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    elapsed = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {args.lines} lines ({t_lines:.1f}s) and {args.pages} pages to {out} "
          f"in {elapsed:.1f}s, {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
