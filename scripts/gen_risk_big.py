#!/usr/bin/env python3
"""A large synthetic member table for measuring `appiscan risk` (bounded memory on tables larger
than memory): `python3 scripts/gen_risk_big.py ROWS OUT.csv`. Columns: 会員ID (linking code), 氏名
(direct identifier), 生年月日 in 西暦 and 和暦 forms, 性別, 郵便番号 in several forms, 職業, 病名.
Every value is made up (seeded generator); no row describes a real person."""

import random
import sys

rows = int(sys.argv[1])
out = sys.argv[2]
rng = random.Random(20261129)
surnames = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
given = ["太郎", "花子", "一郎", "美咲", "健", "陽菜", "翔", "結衣", "大輔", "真由美"]
jobs = ["会社員", "公務員", "自営業", "医師", "看護師", "教員", "学生", "主婦", "農業", "漁業",
        "エンジニア", "営業", "販売", "運転手", "建設業", "研究者", "弁護士", "会計士", "無職", "その他"]
diags = ["高血圧", "糖尿病", "喘息", "花粉症", "腰痛", "うつ病", "胃炎", "なし", "不整脈", "骨折"]
postals = ["%07d" % rng.randrange(10**7) for _ in range(60000)]
eras = [(1989, "平成"), (1926, "昭和")]
FW = str.maketrans("0123456789-", "０１２３４５６７８９－")


def birth(y, m, d, form):
    if form == 0:
        return f"{y:04d}-{m:02d}-{d:02d}"
    if form == 1:
        return f"{y:04d}/{m}/{d}"
    for start, era in eras:
        if (y, m, d) >= (start, 1, 8 if start == 1989 else 25) or start == 1926:
            ey = y - start + 1
            return f"{era}{'元' if ey == 1 else ey}年{m}月{d}日"


days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
with open(out, "w", encoding="utf-8", newline="") as fh:
    fh.write("会員ID,氏名,生年月日,性別,郵便番号,職業,病名\n")
    buf = []
    for i in range(rows):
        y = rng.randrange(1940, 2006)
        m = rng.randrange(1, 13)
        d = rng.randrange(1, days[m - 1] + 1)
        z = rng.choice(postals)
        pf = rng.randrange(4)
        zip_ = z if pf == 0 else f"{z[:3]}-{z[3:]}" if pf == 1 else f"〒{z[:3]}-{z[3:]}" if pf == 2 else f"{z[:3]}-{z[3:]}".translate(FW)
        buf.append(f"M{i:09d},{rng.choice(surnames)} {rng.choice(given)},{birth(y, m, d, rng.randrange(3))},"
                   f"{'男' if rng.random() < 0.5 else '女'},{zip_},{rng.choice(jobs)},{rng.choice(diags)}\n")
        if len(buf) >= 100000:
            fh.write("".join(buf))
            buf.clear()
    fh.write("".join(buf))
