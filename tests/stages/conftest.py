"""Fixtures for the heuristic-filter tests: English documents for parity, clean prose and junk in several
languages. English text comes from the shipped sample and from files every Debian system has
(``/usr/share/doc/*/copyright``, the Zen of Python); prose and junk are written here."""

from __future__ import annotations

import glob
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "web-00002.parquet"
ENGLISH_SOURCES = {"python3.11-doc", "debian-reference-en", "fortunes"}


def zen_of_python() -> str:
    import codecs
    import this  # noqa: F401  (prints on first import; the text is this.s, rot13)

    return codecs.decode(this.s, "rot13")


@pytest.fixture(scope="session")
def english_docs() -> list[str]:
    """About 500 English documents: sample docs (clean and junk), Debian copyright files, the Zen of Python."""
    table = pq.read_table(SAMPLE, columns=["text", "url", "source"]).to_pylist()
    docs = [
        r["text"] for r in table if r["source"] in ENGLISH_SOURCES or "/en-US" in r["url"]
        or (r["source"] == "synthetic-junk" and r["text"].isascii())
    ]
    for path in sorted(glob.glob("/usr/share/doc/*/copyright"))[:300]:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if len(text) < 30_000:
            docs.append(text)
    docs.append(zen_of_python())
    return docs


PROSE = {
    "zh": [
        "春天来了，城市边上的小河又热闹起来。早上有人在河边跑步，也有老人带着孙子慢慢散步。"
        "河水比冬天清了很多，可以看见水里的小鱼。柳树发出了新的叶子，风一吹就轻轻摇动。\n\n"
        "下午的时候，学校放学了，孩子们背着书包从桥上走过。他们一边走一边说笑，讨论明天的考试和周末的计划。"
        "桥头有一家卖豆浆的小店，店主每天都会给熟悉的学生多加一点糖。\n\n"
        "到了晚上，河边的路灯亮起来，附近的居民出来乘凉。有人下棋，有人聊天，也有人只是安静地坐着，"
        "看着水面上的灯光。这样的日子虽然普通，却让人觉得很踏实。",
        "我们的图书馆在去年完成了改建。新的阅览室更加明亮，座位也比以前多了一倍。"
        "每天早上八点开门，很多学生在门口排队等着进去学习。\n\n"
        "图书馆还增加了电子资源，读者可以在家里借阅电子书和期刊。管理员说，这样可以让更多的人方便地使用图书馆的资料。"
        "周末的时候，这里会举办讲座和读书会，内容包括历史、科学和文学。\n\n"
        "很多读者认为，图书馆不仅是借书的地方，也是一个交流和思考的空间。大家希望它能一直保持安静、开放和友好的气氛。",
    ],
    "de": [
        "Am Rand der kleinen Stadt liegt ein alter Garten, den die Nachbarn gemeinsam pflegen. Jeden Samstag treffen "
        "sich dort Familien, um Beete anzulegen, Unkraut zu jäten und über das Wetter zu reden. Die Kinder helfen beim "
        "Gießen und freuen sich, wenn die ersten Tomaten rot werden.\n\n"
        "Im Herbst wird die Ernte geteilt. Wer viele Äpfel hat, bringt sie zum großen Tisch am Eingang, und wer Kuchen "
        "backen kann, macht daraus etwas für alle. Über die Jahre ist der Garten zu einem Ort geworden, an dem man "
        "sich kennt und gegenseitig unterstützt.\n\n"
        "Die Stadt hat inzwischen beschlossen, das Grundstück nicht zu verkaufen. Die Nachbarn sind darüber sehr froh, "
        "denn sie wissen, dass solche Orte selten geworden sind und nicht einfach ersetzt werden können.",
        "Die Bahnstrecke durch das Tal wurde vor mehr als hundert Jahren gebaut. Damals brauchten die Arbeiter viele "
        "Monate, um die Brücken und Tunnel fertigzustellen. Heute fahren die Züge jede Stunde und verbinden die Dörfer "
        "mit der nächsten größeren Stadt.\n\n"
        "Viele Pendler nutzen die Verbindung, um zur Arbeit oder zur Schule zu kommen. Im Sommer kommen außerdem "
        "Wanderer, die von den kleinen Bahnhöfen aus in die Berge gehen. Der Blick aus dem Fenster ist besonders schön, "
        "wenn der Zug langsam über die hohe Steinbrücke fährt.",
    ],
    "ru": [
        "Каждое утро на небольшой площади у реки открывается рынок. Продавцы раскладывают овощи, фрукты и свежий "
        "хлеб, а покупатели неспешно ходят между рядами. Многие знают друг друга много лет и обязательно "
        "останавливаются, чтобы поговорить о новостях.\n\n"
        "Летом на рынке особенно много ягод. Бабушки приносят малину и смородину из своих садов, а дети помогают им "
        "считать деньги. К обеду почти всё уже продано, и площадь постепенно пустеет.\n\n"
        "Городские власти хотели перенести рынок в новое здание, но жители попросили оставить его на старом месте. "
        "Для них это не просто место для покупок, а часть привычной жизни города.",
        "Наша школа находится на окраине города, рядом с большим парком. Зимой ученики катаются там на лыжах, а весной "
        "вместе с учителями сажают деревья. В прошлом году они посадили целую аллею молодых лип.\n\n"
        "В школе есть кружки по музыке, рисованию и программированию. Старшие ученики часто помогают младшим с "
        "уроками и готовят для них небольшие праздники. Учителя говорят, что такая дружба делает школу по-настоящему "
        "живой.",
    ],
}


def junk_docs() -> dict[str, str]:
    """One junk document per kind, in several languages: (kind:lang) -> text."""
    rng = random.Random(0)
    words = {
        "en": "cheap best buy online deal discount free shipping".split(),
        "de": "billig kaufen angebot rabatt kostenlos versand günstig".split(),
        "ru": "дешево купить скидка акция бесплатно доставка лучший".split(),
        "zh": "便宜 购买 优惠 折扣 免费 包邮 最好".split(),
    }
    nav = {
        "en": "Home\nAbout us\nProducts\nContact\nLogin\nSitemap\nPrivacy",
        "de": "Startseite\nÜber uns\nProdukte\nKontakt\nAnmelden\nImpressum\nDatenschutz",
        "ru": "Главная\nО нас\nТовары\nКонтакты\nВойти\nКарта сайта\nПомощь",
        "zh": "首页\n关于我们\n产品\n联系我们\n登录\n网站地图\n帮助",
    }
    out = {}
    for lang, vocab in words.items():
        out[f"stuffing:{lang}"] = " ".join(rng.choice(vocab) for _ in range(300))
        out[f"navigation:{lang}"] = "\n".join([nav[lang]] * 12)
        out[f"repeated:{lang}"] = "\n".join([" ".join(vocab[:5]) + "!"] * 40)
        out[f"tiny:{lang}"] = " ".join(vocab[:4])
    out["symbols"] = " ".join(rng.choice(["#$%", "&&*", "@@!", "^^~", "|||", "{}[]"]) for _ in range(200))
    out["numbers"] = "\n".join(" ".join(str(rng.randint(0, 99999)) for _ in range(10)) for _ in range(40))
    return out


@pytest.fixture(scope="session")
def junk() -> dict[str, str]:
    return junk_docs()


@pytest.fixture(scope="session")
def prose() -> dict[str, list[str]]:
    return PROSE


def make_table(texts: list[str], lang: list[str] | None = None) -> pa.Table:
    cols = {"id": [str(i) for i in range(len(texts))], "text": texts}
    if lang is not None:
        cols["lang"] = lang
    return pa.table(cols)


@pytest.fixture(scope="session")
def table():
    """Build a batch: table(texts, lang=None) -> pa.Table with id, text (and lang)."""
    return make_table


def datatrove_verdicts(ref, texts: list[str]) -> tuple[list[bool], list[str | None], list[str]]:
    """Run a datatrove filter on each text: keep, reason, and the (possibly rewritten) text."""
    from datatrove.data import Document

    keep, reasons, out = [], [], []
    for i, t in enumerate(texts):
        doc = Document(text=t, id=str(i))
        r = ref.filter(doc)
        keep.append(r is True)
        reasons.append(None if r is True else r[1])
        out.append(doc.text)
    return keep, reasons, out


@pytest.fixture(scope="session")
def reference():
    return datatrove_verdicts
