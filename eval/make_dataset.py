#!/usr/bin/env python3
"""Deterministic synthetic OCR dataset for evaluating Tollgate's OCR engine.

Writes (under --out, default eval/data):
  lines/NNNN.png   single text-line images, about half English and half Chinese
  lines.jsonl      {"file", "text", "lang", "font", "size", "degradation"}
  pages/NNN.png    page images with 8-25 lines (1 or 2 columns, some rotated)
  pages.jsonl      {"file", "lines": [{"text", "box", ...}], "rotated180", ...}
  meta.json        generation parameters

and the fixed unit-test fixtures under --fixtures (default eval/fixtures):
  hello.png, hello_exif_rotated.jpg, chinese.png, page_rotated.png, fixtures.json

Everything is driven by --seed, so the same seed, fonts and Pillow/numpy
versions give byte-identical output.  Images are 8-bit grayscale PNGs.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

EVAL_DIR = Path(__file__).resolve().parent

# --------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------

FONT_DIRS = [
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".fonts",
]

# name -> (candidate file names, family name reported by the font)
FONT_SPECS = {
    "DejaVu Sans": (["DejaVuSans.ttf"], "DejaVu Sans"),
    "DejaVu Serif": (["DejaVuSerif.ttf"], "DejaVu Serif"),
    "DejaVu Sans Mono": (["DejaVuSansMono.ttf"], "DejaVu Sans Mono"),
    "Liberation Sans": (["LiberationSans-Regular.ttf"], "Liberation Sans"),
    "Liberation Serif": (["LiberationSerif-Regular.ttf"], "Liberation Serif"),
    "Liberation Mono": (["LiberationMono-Regular.ttf"], "Liberation Mono"),
    "Noto Sans CJK SC": (
        ["NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansCJK-VF.ttc"],
        "Noto Sans CJK SC",
    ),
    "WenQuanYi Zen Hei": (["wqy-zenhei.ttc"], "WenQuanYi Zen Hei"),
    "WenQuanYi Micro Hei": (["wqy-microhei.ttc"], "WenQuanYi Micro Hei"),
}

EN_FONTS = [
    "DejaVu Sans",
    "DejaVu Serif",
    "DejaVu Sans Mono",
    "Liberation Sans",
    "Liberation Serif",
    "Liberation Mono",
]
ZH_FONTS = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei"]


@dataclass(frozen=True)
class FontRef:
    name: str
    path: str
    index: int


def _find_file(filename: str) -> Path | None:
    for d in FONT_DIRS:
        if not d.is_dir():
            continue
        hits = sorted(d.rglob(filename))
        if hits:
            return hits[0]
    return None


def resolve_fonts() -> dict[str, FontRef]:
    """Locate every font of FONT_SPECS (file and face index inside .ttc)."""
    found: dict[str, FontRef] = {}
    for name, (files, family) in FONT_SPECS.items():
        for fn in files:
            path = _find_file(fn)
            if path is None:
                continue
            for index in range(16):
                try:
                    f = ImageFont.truetype(str(path), 20, index=index)
                except OSError:
                    break
                if f.getname()[0] == family:
                    found[name] = FontRef(name, str(path), index)
                    break
            if name in found:
                break
    return found


class FontCache:
    def __init__(self, refs: dict[str, FontRef]):
        self.refs = refs
        self._cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}

    def get(self, name: str, size: int) -> ImageFont.FreeTypeFont:
        key = (name, size)
        f = self._cache.get(key)
        if f is None:
            ref = self.refs[name]
            f = ImageFont.truetype(ref.path, size, index=ref.index)
            self._cache[key] = f
        return f


# --------------------------------------------------------------------------
# Corpora (written for this project)
# --------------------------------------------------------------------------

EN_WORDS = """
the of and to in is that for it as was with be by on not he this are or his
from at which but have an they you were her she there one all we their has
been would will more if no when what so who can said its about up out them
into time only new some could these may then do first any my now such like
other over our even most made after also did many before must through back
where much your way well down should because each just those people how too
little state good very make world still own see men work long get here both
between life being under never day same another know while last might us great
old year off come since against go came right used take three states himself
few house use during without again place around however home small found
thought went say part once general high upon school every does got united
left number course war until always away something fact though water less
public put think almost hand enough far took head yet government system better
set told nothing night end why called eyes find going look asked later
knew point next program city business give group toward young days let room
president side social given present several order national possible rather
second face per among form important often things looking early white case
become large big need four within felt along children saw best church
ever least power development light thing seemed family interest want members
mind country area others done turned although open god service problem sure
kind different thus began door help means sense whole matter perhaps itself
times human law line above name example action company hands local show
whether five history gave today either act feet across taken past quite anything
having seen death experience body word half really week field car words already
information tell together college shall money period held keep sound far read
market model report engine server token access request invoice receipt total
amount account address phone email office support contact customer product
price order shipping payment balance credit tax date street avenue station
north south east west green blue red black yellow orange simple quick bright
""".split()

EN_CAPS = """
Tollgate London Paris Berlin Tokyo Beijing Shanghai Monday Tuesday Friday
January March July October Python Rust Linux Apple River Ocean Mountain Alice
Bob Carol David Emma Frank Grace Henry Invoice Receipt Total Page Chapter
""".split()

ZH_WORDS = """
中国 北京 上海 城市 经济 发展 社会 文化 历史 科学 技术 教育 学生 老师 学校 大学
工作 公司 市场 产品 服务 客户 管理 系统 数据 信息 网络 电脑 手机 软件 程序 问题
方法 结果 研究 分析 报告 会议 时间 今天 明天 昨天 上午 下午 晚上 星期 月份 年度
计划 目标 项目 任务 团队 合作 成功 失败 重要 主要 简单 复杂 快速 安全 质量 价格
成本 收入 支出 银行 账户 支付 订单 商品 购买 销售 运输 物流 交通 道路 汽车 火车
飞机 机场 车站 医院 医生 健康 身体 生活 家庭 父母 孩子 朋友 同事 人民 国家 政府
政策 法律 规定 标准 环境 保护 能源 资源 天气 温度 春天 夏天 秋天 冬天 山水 河流
大海 森林 动物 植物 花园 公园 图书馆 博物馆 电影 音乐 艺术 体育 运动 比赛 足球 篮球
新闻 报纸 杂志 文章 作者 读者 语言 文字 中文 英文 翻译 识别 图像 图片 文本 文件
页面 内容 标题 段落 句子 词语 汉字 字符 准确 错误 正确 检查 测试 评估 模型 训练
推理 速度 性能 内存 处理 输入 输出 结构 设计 开发 用户 界面 功能 版本 更新 下载
上传 登录 注册 密码 邮件 地址 电话 号码 名字 姓名 年龄 职业 经验 能力 知识 学习
考试 成绩 作业 课程 教室 书本 笔记 思想 观点 意见 建议 决定 选择 机会 条件 原因
影响 变化 提高 增加 减少 改进 完成 开始 结束 继续 准备 参加 组织 活动 传统 现代
未来 过去 现在 世界 地区 东方 西方 南方 北方 中心 周围 附近 距离 方向 位置 空间
面积 数量 比例 部分 全部 每天 经常 有时 已经 正在 马上 突然 终于 非常 比较 特别
一定 可能 应该 需要 希望 喜欢 认为 觉得 知道 了解 发现 表示 说明 介绍 讨论 解决
保持 提供 支持 使用 利用 建立 形成 产生 出现 存在 进行 实现 达到 关系 方式 水平
程度 作用 意义 价值 精神 力量 美丽 安静 热闹 干净 温暖 清楚 明白 高兴 快乐 幸福
努力 认真 仔细 耐心 热情 友好 自然 自由 和平 一起 大家 我们 你们 他们 自己 别人
东西 事情 地方 时候 办法 样子 早饭 午饭 晚饭 米饭 面条 饺子 水果 苹果 茶叶 咖啡
牛奶 鸡蛋 蔬菜 超市 商店 饭店 酒店 房间 厨房 窗户 桌子 椅子 衣服 颜色 红色 蓝色
绿色 白色 黑色 黄色 长江 黄河 长城 故宫 西湖 广州 深圳 杭州 南京 成都 武汉 西安
重庆 天津 人工智能 机器学习 深度学习 自然语言 计算机视觉 云计算 大数据 互联网 开源软件
操作系统 数据库 服务器 浏览器 应用程序 欢迎光临 谢谢合作 注意安全 营业时间 联系我们
出口 入口 请勿吸烟 禁止停车 发票 收据 金额 合计 日期 单位 数字 中文识别 文档 表格
""".split()

ZH_MEASURES = ["个", "年", "月", "日", "次", "元", "人", "页", "号", "米", "公斤", "小时", "分钟"]
ZH_ENDINGS = ["，", "。", "；", "！", "？", "、"]


def en_line(rng: random.Random, min_words: int = 3, max_words: int = 8) -> str:
    n = rng.randint(min_words, max_words)
    words: list[str] = []
    for i in range(n):
        r = rng.random()
        if r < 0.10:
            words.append(rng.choice(EN_CAPS))
        elif r < 0.16:
            words.append(_en_number(rng))
        else:
            words.append(rng.choice(EN_WORDS))
    if rng.random() < 0.6:
        words[0] = words[0][:1].upper() + words[0][1:]
    # Light punctuation inside and at the end.
    if n > 3 and rng.random() < 0.35:
        k = rng.randint(1, n - 2)
        words[k] = words[k] + rng.choice([",", ",", ";", ":"])
    if n > 3 and rng.random() < 0.12:
        k = rng.randint(0, n - 2)
        words[k] = "(" + words[k] + ")"
    if n > 2 and rng.random() < 0.08:
        k = rng.randint(0, n - 2)
        words[k] = words[k] + "-" + rng.choice(EN_WORDS)
    text = " ".join(words)
    if rng.random() < 0.45:
        text += rng.choice([".", ".", ".", "!", "?"])
    return text


def _en_number(rng: random.Random) -> str:
    kind = rng.randint(0, 5)
    if kind == 0:
        return str(rng.randint(1900, 2030))
    if kind == 1:
        return f"${rng.randint(1, 999)}.{rng.randint(0, 99):02d}"
    if kind == 2:
        return f"{rng.randint(1, 99)}%"
    if kind == 3:
        return f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}"
    if kind == 4:
        return f"#{rng.randint(100, 99999)}"
    return str(rng.randint(0, 500))


def zh_line(rng: random.Random, min_words: int = 2, max_words: int = 6) -> str:
    n = rng.randint(min_words, max_words)
    parts: list[str] = []
    for i in range(n):
        r = rng.random()
        if r < 0.08:
            parts.append(f"{rng.randint(1, 2030)}{rng.choice(ZH_MEASURES)}")
        else:
            parts.append(rng.choice(ZH_WORDS))
        if i < n - 1 and rng.random() < 0.12:
            parts.append(rng.choice(["，", "、"]))
    text = "".join(parts)
    if rng.random() < 0.4:
        text += rng.choice(ZH_ENDINGS[:2] + ZH_ENDINGS[3:5])
    return text


def en_fill(rng: random.Random, font, max_width: int) -> str:
    """English text that fits in max_width pixels (at least one word)."""
    words = en_line(rng, 14, 22).split(" ")
    text = words[0]
    for w in words[1:]:
        cand = text + " " + w
        if font.getlength(cand) > max_width:
            break
        text = cand
    return text


def zh_fill(rng: random.Random, font, max_width: int) -> str:
    """Chinese text that fits in max_width pixels (at least one word)."""
    text = ""
    while True:
        r = rng.random()
        if text and text[-1] not in "，、。；" and r < 0.12:
            chunk = rng.choice(["，", "，", "、", "。", "；"])
        elif r < 0.19:
            chunk = f"{rng.randint(1, 500)}{rng.choice(ZH_MEASURES)}"
        else:
            chunk = rng.choice(ZH_WORDS)
        cand = text + chunk
        if font.getlength(cand) > max_width:
            break
        text = cand
    if not text:
        # a single word wider than the column: fall back to characters
        word = rng.choice(ZH_WORDS)
        for ch in word:
            if font.getlength(text + ch) > max_width and text:
                break
            text += ch
    return text


# --------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------


def rotate_points(pts, angle_deg: float, w: int, h: int, new_w: int, new_h: int):
    """Map points of a w x h image through PIL's Image.rotate(angle_deg).

    PIL rotates counter-clockwise (as seen on screen, y pointing down) about
    the image centre; with expand=True the result is re-centred in a
    new_w x new_h canvas.
    """
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    cx, cy = w / 2.0, h / 2.0
    ncx, ncy = new_w / 2.0, new_h / 2.0
    out = []
    for x, y in pts:
        dx, dy = x - cx, y - cy
        out.append((ncx + dx * c + dy * s, ncy - dx * s + dy * c))
    return out


def box_after_rotation(box, angle_deg, w, h, new_w, new_h):
    x0, y0, x1, y1 = box
    pts = rotate_points(
        [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], angle_deg, w, h, new_w, new_h
    )
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return [
        max(0, int(math.floor(min(xs)))),
        max(0, int(math.floor(min(ys)))),
        min(new_w, int(math.ceil(max(xs)))),
        min(new_h, int(math.ceil(max(ys)))),
    ]


def add_noise(img: Image.Image, nrng: np.random.Generator, sigma: float) -> Image.Image:
    a = np.asarray(img, dtype=np.float32)
    a = a + nrng.normal(0.0, sigma, size=a.shape).astype(np.float32)
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), mode="L")


# --------------------------------------------------------------------------
# Text lines
# --------------------------------------------------------------------------

LINE_DEGRADATIONS = ["clean", "blur", "noise", "rotate", "lowcontrast"]


def render_line(
    text: str,
    font,
    pad: tuple[int, int, int, int],
    fg: int = 0,
    bg: int = 255,
) -> Image.Image:
    """Render text tightly with (left, top, right, bottom) padding around the ink."""
    left, top, right, bottom = font.getbbox(text)
    pl, pt, pr, pb = pad
    w = (right - left) + pl + pr
    h = (bottom - top) + pt + pb
    img = Image.new("L", (w, h), bg)
    ImageDraw.Draw(img).text((pl - left, pt - top), text, font=font, fill=fg)
    return img


def make_line(i: int, rng: random.Random, nrng: np.random.Generator, fonts: FontCache):
    lang = "en" if i % 2 == 0 else "zh"
    if lang == "en":
        text = en_line(rng)
        # Chinese fonts carry Latin glyphs too; use them for some English lines.
        pool = EN_FONTS if rng.random() < 0.85 else ZH_FONTS
    else:
        text = zh_line(rng)
        pool = ZH_FONTS
    pool = [f for f in pool if f in fonts.refs]
    font_name = rng.choice(pool)
    size = rng.randint(16, 48)
    font = fonts.get(font_name, size)
    degradation = LINE_DEGRADATIONS[rng.randrange(len(LINE_DEGRADATIONS))]
    pad = tuple(rng.randint(8, 16) for _ in range(4))

    info: dict = {}
    if degradation == "lowcontrast":
        bg = rng.randint(195, 230)
        fg = rng.randint(max(60, bg - 110), bg - 70)
        img = render_line(text, font, pad, fg=fg, bg=bg)
        info = {"fg": fg, "bg": bg}
    else:
        img = render_line(text, font, pad)
    if degradation == "blur":
        radius = round(rng.uniform(0.5, 1.5), 2)
        img = img.filter(ImageFilter.GaussianBlur(radius))
        info = {"radius": radius}
    elif degradation == "noise":
        sigma = round(rng.uniform(6.0, 20.0), 1)
        img = add_noise(img, nrng, sigma)
        info = {"sigma": sigma}
    elif degradation == "rotate":
        angle = round(rng.uniform(-3.0, 3.0), 2)
        if abs(angle) < 0.5:
            angle = 0.5 if angle >= 0 else -0.5
        img = img.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
        info = {"angle": angle}
    rec = {
        "text": text,
        "lang": lang,
        "font": font_name,
        "size": size,
        "degradation": degradation,
    }
    if info:
        rec["params"] = info
    return img, rec


# --------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------

PAGE_W, PAGE_H = 1000, 1400


def layout_page(rng: random.Random, fonts: FontCache, lang_mode: str):
    """Draw text on a blank page; return (image, lines in reading order)."""
    bg = 255
    img = Image.new("L", (PAGE_W, PAGE_H), bg)
    draw = ImageDraw.Draw(img)
    margin_x = rng.randint(50, 90)
    margin_top = rng.randint(60, 110)
    margin_bottom = rng.randint(60, 100)
    target = rng.randint(8, 25)
    two_cols = rng.random() < 0.4
    gutter = rng.randint(40, 70)
    full_w = PAGE_W - 2 * margin_x
    lines: list[dict] = []

    def para_lang() -> str:
        if lang_mode == "mixed":
            return "en" if rng.random() < 0.5 else "zh"
        return lang_mode

    def pick_font(lang: str):
        pool = EN_FONTS if lang == "en" else ZH_FONTS
        pool = [f for f in pool if f in fonts.refs]
        return rng.choice(pool)

    y = margin_top + rng.choice([0, 0, rng.randint(0, 250)])
    # Optional full-width heading.
    if two_cols or rng.random() < 0.4:
        lang = para_lang()
        name = pick_font(lang)
        size = rng.randint(30, 40)
        font = fonts.get(name, size)
        if lang == "en":
            text = en_fill(rng, font, int(full_w * rng.uniform(0.4, 0.8)))
        else:
            text = zh_fill(rng, font, int(full_w * rng.uniform(0.3, 0.6)))
        x = margin_x
        draw.text((x, y), text, font=font, fill=0)
        box = list(draw.textbbox((x, y), text, font=font))
        lines.append({"text": text, "box": box, "lang": lang, "font": name, "size": size})
        y = box[3] + int(size * 1.2)

    if two_cols:
        col_w = (full_w - gutter) // 2
        columns = [(margin_x, col_w), (margin_x + col_w + gutter, col_w)]
    else:
        columns = [(margin_x, full_w)]
    y_start = y
    bottom = PAGE_H - margin_bottom

    for ci, (cx, cw) in enumerate(columns):
        y = y_start
        # Leave lines for later columns.
        col_target = target - len(lines)
        if ci < len(columns) - 1:
            col_target = max(1, math.ceil(col_target / (len(columns) - ci)))
        placed = 0
        while placed < col_target and len(lines) < target:
            lang = para_lang()
            name = pick_font(lang)
            size = rng.randint(18, 30) if cw > 600 else rng.randint(16, 26)
            font = fonts.get(name, size)
            ascent, descent = font.getmetrics()
            spacing = int(max(ascent + descent, size * 1.2) * rng.uniform(1.15, 1.6))
            para_len = rng.randint(2, 6)
            if y + ascent + descent > bottom:
                break
            for li in range(para_len):
                if placed >= col_target or len(lines) >= target:
                    break
                if y + ascent + descent > bottom:
                    break
                last = li == para_len - 1
                width = int(cw * (rng.uniform(0.35, 0.8) if last else rng.uniform(0.85, 1.0)))
                text = en_fill(rng, font, width) if lang == "en" else zh_fill(rng, font, width)
                indent = int(size * 2) if (li == 0 and lang == "zh") else 0
                if indent and font.getlength(text) + indent > cw:
                    indent = 0
                x = cx + indent
                draw.text((x, y), text, font=font, fill=0)
                box = list(draw.textbbox((x, y), text, font=font))
                lines.append(
                    {"text": text, "box": box, "lang": lang, "font": name, "size": size}
                )
                placed += 1
                y += spacing
            y += int(size * rng.uniform(0.6, 2.5))  # paragraph gap
    return img, lines


def make_page(i: int, rng: random.Random, nrng: np.random.Generator, fonts: FontCache):
    lang_mode = ["en", "zh", "mixed"][i % 3]
    img, lines = layout_page(rng, fonts, lang_mode)
    # Guarantee at least 8 lines (re-layout with a fresh draw if unlucky).
    tries = 0
    while len(lines) < 8 and tries < 10:
        img, lines = layout_page(rng, fonts, lang_mode)
        tries += 1

    degr: list[str] = []
    rotated180 = i % 5 == 0  # 10 of 50 pages
    small_angle = 0.0
    if i % 5 == 1 or (rotated180 and rng.random() < 0.3):
        small_angle = round(rng.uniform(-2.0, 2.0), 2)
        if abs(small_angle) < 0.4:
            small_angle = 0.4 if small_angle >= 0 else -0.4
    extra = rng.choice(["clean", "clean", "noise", "blur", "lowcontrast"])

    if extra == "lowcontrast":
        bgv = rng.randint(200, 230)
        fgv = rng.randint(bgv - 120, bgv - 80)
        lut = [int(round(bgv + (fgv - bgv) * (255 - v) / 255.0)) for v in range(256)]
        img = img.point(lut)
        degr.append("lowcontrast")
        fill = bgv
    else:
        fill = 255

    angle = small_angle + (180.0 if rotated180 else 0.0)
    if angle:
        w, h = img.size
        if rotated180 and not small_angle:
            img = img.transpose(Image.ROTATE_180)
        else:
            img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=fill)
        for ln in lines:
            ln["box"] = box_after_rotation(ln["box"], angle, w, h, w, h)
        if small_angle:
            degr.append("skew")
        if rotated180:
            degr.append("rot180")
    if extra == "noise":
        img = add_noise(img, nrng, round(rng.uniform(5.0, 14.0), 1))
        degr.append("noise")
    elif extra == "blur":
        img = img.filter(ImageFilter.GaussianBlur(round(rng.uniform(0.5, 1.2), 2)))
        degr.append("blur")
    rec = {
        "lines": lines,
        "rotated180": rotated180,
        "angle": angle,
        "lang": lang_mode,
        "degradation": "+".join(degr) if degr else "clean",
        "width": img.size[0],
        "height": img.size[1],
    }
    return img, rec


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


def make_fixtures(fonts: FontCache, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    meta: dict = {}

    hello = "Hello Tollgate 2026"
    img = render_line(hello, fonts.get("DejaVu Sans", 32), (12, 12, 12, 12))
    img.save(out / "hello.png")
    meta["hello.png"] = {"text": hello, "lang": "en", "font": "DejaVu Sans", "size": 32}

    # The same line as a JPEG whose pixels are stored turned 90° counter-clockwise, with EXIF
    # orientation 6 ("rotate 90° clockwise to display"): readers must honour the tag.
    exif = Image.Exif()
    exif[0x0112] = 6
    img.convert("RGB").transpose(Image.ROTATE_90).save(out / "hello_exif_rotated.jpg", quality=95, exif=exif)
    meta["hello_exif_rotated.jpg"] = {
        "text": hello, "lang": "en", "font": "DejaVu Sans", "size": 32,
        "exif_orientation": 6, "display_size": list(img.size),
    }

    zh = "识别中文文本"
    zh_font = "Noto Sans CJK SC" if "Noto Sans CJK SC" in fonts.refs else "WenQuanYi Zen Hei"
    img = render_line(zh, fonts.get(zh_font, 32), (12, 12, 12, 12))
    img.save(out / "chinese.png")
    meta["chinese.png"] = {"text": zh, "lang": "zh", "font": zh_font, "size": 32}

    texts = [
        "The quick brown fox jumps",
        "over the lazy dog near",
        "the Tollgate river bridge.",
    ]
    w, h = 520, 240
    page = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(page)
    font = fonts.get("DejaVu Sans", 28)
    lines = []
    y = 40
    for t in texts:
        d.text((40, y), t, font=font, fill=0)
        lines.append({"text": t, "box_upright": list(d.textbbox((40, y), t, font=font))})
        y += 60
    page = page.transpose(Image.ROTATE_180)
    for ln in lines:
        x0, y0, x1, y1 = ln["box_upright"]
        ln["box"] = [w - x1, h - y1, w - x0, h - y0]
    page.save(out / "page_rotated.png")
    meta["page_rotated.png"] = {
        "lines": [{"text": ln["text"], "box": ln["box"]} for ln in lines],
        "rotated180": True,
        "font": "DejaVu Sans",
        "size": 28,
    }
    text = json.dumps(meta, ensure_ascii=False, indent=2)
    # keep [x0, y0, x1, y1] boxes on one line
    text = re.sub(r"\[\s+(\d+),\s+(\d+),\s+(\d+),\s+(\d+)\s+\]", r"[\1, \2, \3, \4]", text)
    (out / "fixtures.json").write_text(text + "\n", encoding="utf-8")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=EVAL_DIR / "data")
    ap.add_argument("--fixtures", type=Path, default=EVAL_DIR / "fixtures")
    ap.add_argument("--lines", type=int, default=500)
    ap.add_argument("--pages", type=int, default=50)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--no-fixtures", action="store_true")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    refs = resolve_fonts()
    missing = [n for n in FONT_SPECS if n not in refs]
    if missing:
        print(f"warning: fonts not found: {', '.join(missing)}", file=sys.stderr)
    if not any(n in refs for n in ZH_FONTS) or not any(n in refs for n in EN_FONTS):
        print(
            "error: need at least one English and one CJK font; install\n"
            "  fonts-dejavu-core fonts-liberation fonts-noto-cjk fonts-wqy-zenhei fonts-wqy-microhei",
            file=sys.stderr,
        )
        return 2
    if "DejaVu Sans" not in refs:
        print("error: DejaVu Sans is required for fixtures/pages", file=sys.stderr)
        return 2
    fonts = FontCache(refs)

    out: Path = args.out
    (out / "lines").mkdir(parents=True, exist_ok=True)
    (out / "pages").mkdir(parents=True, exist_ok=True)

    # Independent streams so that changing --pages does not change the lines.
    line_rng = random.Random(f"{args.seed}:lines")
    line_nrng = np.random.default_rng([args.seed, 1])
    with open(out / "lines.jsonl", "w", encoding="utf-8") as fh:
        for i in range(args.lines):
            img, rec = make_line(i, line_rng, line_nrng, fonts)
            name = f"lines/{i + 1:04d}.png"
            img.save(out / name)
            fh.write(json.dumps({"file": name, **rec}, ensure_ascii=False) + "\n")
    t_lines = time.perf_counter() - t0

    page_rng = random.Random(f"{args.seed}:pages")
    page_nrng = np.random.default_rng([args.seed, 2])
    with open(out / "pages.jsonl", "w", encoding="utf-8") as fh:
        for i in range(args.pages):
            img, rec = make_page(i, page_rng, page_nrng, fonts)
            name = f"pages/{i + 1:03d}.png"
            img.save(out / name)
            fh.write(json.dumps({"file": name, **rec}, ensure_ascii=False) + "\n")

    if not args.no_fixtures:
        make_fixtures(fonts, args.fixtures)

    meta = {
        "seed": args.seed,
        "lines": args.lines,
        "pages": args.pages,
        "fonts": {n: {"path": r.path, "index": r.index} for n, r in sorted(refs.items())},
        "pillow": Image.__version__,
        "numpy": np.__version__,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    elapsed = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(
        f"wrote {args.lines} lines ({t_lines:.1f}s) and {args.pages} pages to {out} "
        f"in {elapsed:.1f}s, {size / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
