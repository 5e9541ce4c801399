#!/usr/bin/env python3
"""Generate a synthetic bilingual (English/Chinese) JSONL corpus for benchmarks.

Deterministic for a given seed. Roughly the shape of web and chat fine-tuning data:
prose with sparse PII (about one value per 2 KB), chat records, CSV rows and code, 2 KB
per record on average. Every value is synthetic (example.com domains, test card numbers,
generated numbers); nothing here is real personal data.

usage: gen_corpus.py OUT.jsonl --mb 300 [--seed 7] [--scale 1.0] [--dup-rate 0.03]

--scale multiplies every record's size (prose length, CSV rows, code lines); 1.0 gives
the original corpus byte for byte. benches/run.sh uses 1.19, which gives about 145,000
records per 300 MB (2.07 KB per record on average).
"""
import argparse
import json
import random

EN_WORDS = (
    "the of and to in is was for on that with as by at from his her they this be are "
    "which or had not but were their have one all been has there who when an more will "
    "would river mountain market system data model report city water energy history "
    "policy research school family music season network project design company service "
    "quality process support customer order product account value result change world"
).split()
ZH_CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"
    "十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"
)
FIRST = ["James", "Mary", "Wei", "Fang", "Anna", "Lukas", "Camille", "Hiroshi", "Li", "Olivia"]
LAST = ["Smith", "Wang", "Zhang", "Müller", "Dubois", "Johnson", "Chen", "Garcia", "Liu", "Brown"]
CARDS = ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "6011111111111117", "3530111333300000"]


def en_sentence(r):
    n = r.randint(8, 20)
    w = [r.choice(EN_WORDS) for _ in range(n)]
    w[0] = w[0].capitalize()
    return " ".join(w) + r.choice([".", ".", ".", "?", "!"])


def zh_sentence(r):
    n = r.randint(12, 30)
    return "".join(r.choice(ZH_CHARS) for _ in range(n)) + r.choice(["。", "。", "！", "？", "，"])


def email(r):
    return f"{r.choice(FIRST).lower()}.{r.choice(LAST).lower()}{r.randint(1, 999)}@example{r.randint(1, 50)}.com"


def mobile(r):
    return f"1{r.randint(3, 9)}{r.randint(0, 9)}{r.randint(10000000, 99999999)}"


def pii(r, lang):
    k = r.randint(0, 5)
    if k == 0:
        return email(r)
    if k == 1:
        return mobile(r) if lang == "zh" else f"+1 {r.randint(200, 999)} 555 {r.randint(1000, 9999)}"
    if k == 2:
        return r.choice(CARDS)
    if k == 3:
        return f"{r.randint(11, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    if k == 4:
        return f"order {r.randint(10**15, 10**16 - 1)}"  # hard negative (mostly Luhn-invalid)
    return f"v{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 99)}"


def prose(r, lang, target):
    parts, size = [], 0
    while size < target:
        s = en_sentence(r) if lang == "en" else zh_sentence(r)
        if r.random() < 0.08:
            s = s[:-1] + " " + pii(r, lang) + s[-1]
        parts.append(s)
        size += len(s.encode())
    return (" " if lang == "en" else "").join(parts)


def record(r, i, scale=1.0):
    lang = "zh" if r.random() < 0.5 else "en"
    kind = r.random()
    size = int(r.lognormvariate(7.3, 0.6) * scale)
    if kind < 0.6:
        return {"id": i, "text": prose(r, lang, size), "lang": lang, "source": "web", "score": round(r.random(), 4)}
    if kind < 0.85:
        msgs = []
        for t in range(r.randint(2, 6)):
            msgs.append({"role": "user" if t % 2 == 0 else "assistant", "content": prose(r, lang, size // 4)})
        return {"id": i, "messages": msgs, "lang": lang}
    if kind < 0.95:
        rows = ["name,email,phone,city"]
        for _ in range(r.randint(3, round(15 * scale))):
            rows.append(f"{r.choice(FIRST)} {r.choice(LAST)},{email(r)},{mobile(r)},{r.choice(EN_WORDS)}")
        return {"id": i, "text": "\n".join(rows), "lang": lang, "source": "csv"}
    code = [f"def f{j}(x):\n    return x * {j}  # owner {email(r) if r.random() < 0.3 else 'n/a'}" for j in range(r.randint(3, round(30 * scale)))]
    return {"id": i, "text": "\n".join(code), "lang": "en", "source": "code"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dup-rate", type=float, default=0.03)
    ap.add_argument("--scale", type=float, default=1.0, help="record size multiplier")
    a = ap.parse_args()
    r = random.Random(a.seed)
    limit = int(a.mb * 1e6)
    written = 0
    recent = []
    with open(a.out, "w", encoding="utf-8") as f:
        i = 0
        while written < limit:
            if recent and r.random() < a.dup_rate:
                line = r.choice(recent)
            else:
                line = json.dumps(record(r, i, a.scale), ensure_ascii=False)
                recent.append(line)
                if len(recent) > 1000:
                    recent.pop(0)
            f.write(line + "\n")
            written += len(line.encode()) + 1
            i += 1
    print(f"{a.out}: {i} records, {written / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
