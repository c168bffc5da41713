#!/usr/bin/env python3
"""Writes samples/: a small synthetic storage dump (no real person; every identifier is generated
with a valid check digit where one exists). Deterministic: re-running gives the same bytes.

    python3 scripts/gen_samples.py
"""
import json
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples")
rng = random.Random(20261129)


def digits(n):
    return "".join(str(rng.randrange(10)) for _ in range(n))


def my_number():
    # 総務省令第85号(平成26年)第5条: weights 6..2,7..2 over the 11-digit body; r<=1 -> 0 else 11-r.
    while True:
        b = digits(11)
        s = sum(int(b[11 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
        r = s % 11
        v = b + str(0 if r <= 1 else 11 - r)
        if len(set(v)) > 2:
            return v


def licence():
    f = rng.choice(["30", "45", "43", "62", "54", "10", "90"]) + f"{rng.randrange(60, 100):02d}" + digits(6)
    r = sum(int(d) * w for d, w in zip(f, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))) % 11
    return f + str((11 - r) % 10) + rng.choice("0001")


def resident_code():
    b = digits(10)
    s = sum(int(b[10 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 11))
    r = s % 11
    return b + str(0 if r <= 1 else 11 - r)


def insurer():
    b = "06" + f"{rng.randrange(1, 48):02d}" + digits(3)
    s = 0
    for i, ch in enumerate(reversed(b)):
        p = int(ch) * (2 if i % 2 == 0 else 1)
        s += p // 10 + p % 10
    return b + str((10 - s % 10) % 10)


def corporate():
    base = digits(12)
    s = sum(int(base[12 - n]) * (1 if n % 2 else 2) for n in range(1, 13))
    return str(9 - s % 9) + base


def jan():
    b = "49" + digits(10)
    s = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(b))
    return b + str((10 - s % 10) % 10)


def order_number_passing_my_number():
    # A YYYYMMDDnnnn order number whose last digit happens to satisfy the My Number check.
    while True:
        body = f"2026{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}" + digits(3)
        s = sum(int(body[11 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
        r = s % 11
        return body + str(0 if r <= 1 else 11 - r)


def tracking():
    b = digits(11)
    return b + str(int(b) % 7)


def fw(s):
    return "".join(chr(ord(c) - 0x30 + 0xFF10) if c.isdigit() else c for c in s)


def g(v):
    return f"{v[:4]}-{v[4:8]}-{v[8:]}"


NAMES = ["山田 太郎", "佐藤 花子", "鈴木 一郎", "高橋 美咲", "田中 健", "伊藤 由紀", "渡辺 翔", "中村 彩"]


def write(path, text, encoding="utf-8", bom=False):
    full = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    with open(full, "wb") as f:
        f.write(data)


# 1. A UTF-8 HR export: My Number, pension and employment-insurance columns.
rows = ["社員番号,氏名,生年月日,個人番号,基礎年金番号,雇用保険被保険者番号"]
for i, n in enumerate(NAMES[:5]):
    mn = my_number()
    mn = [mn, g(mn), f"{mn[:4]} {mn[4:8]} {mn[8:]}"][i % 3]
    rows.append(f"E{1001 + i},{n},19{rng.randrange(60, 99)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 9)},"
                f"{mn},{digits(4)}-{digits(6)},{digits(4)}-{digits(6)}-{digits(1)}")
write("hr/employees.csv", "\n".join(rows) + "\n")

# 2. A Shift_JIS CSV as Excel writes it: dependants' My Numbers (full-width) and licences.
rows = ["氏名,続柄,個人番号,運転免許証番号,備考"]
for n in NAMES[5:]:
    rows.append(f"{n},配偶者,{fw(g(my_number()))},{licence()},扶養控除等申告書より転記")
write("hr/扶養控除等申告書_2026.csv", "\r\n".join(rows) + "\r\n", encoding="cp932")

# 3. A memo with codes in prose.
ins = insurer()
write("memo/面談記録.txt", f"""面談記録（2026年10月12日）
対象者：{NAMES[6]}（外国籍、技術・人文知識・国際業務）
在留カード番号：{rng.choice("ABCDEFGHJK")}{rng.choice("LMNPRSTUVW")}{digits(8)}{rng.choice("ABCDEF")}{rng.choice("GHJKLM")}
旅券番号 T{rng.choice("RSUZ")}{digits(7)}（2031年まで有効）

家族について
配偶者：{NAMES[7]}
特別永住者証明書番号 {rng.choice("MNPQ")}{rng.choice("ABCD")}{digits(8)}{rng.choice("XYZ")}{rng.choice("ABC")}
住民票コード：{resident_code()}（住民票の写しに記載、コピーは廃棄すること）

健康保険証（資格確認書）の写しを受領。
保険者番号 {ins}　記号 {digits(4)}　番号 {rng.randrange(1, 99)}　枝番 00

連絡先 TEL 090-{digits(4)}-{digits(4)}（本人携帯）
""")

# 4. A JSONL export of a member system, keys as context.
lines = []
for i, n in enumerate(NAMES[:4]):
    rec = {"id": 5000 + i, "name": n, "kyc": {"document": ["passport", "drivers_license", "my_number_card", "passport"][i]}}
    if i in (0, 3):
        rec["kyc"]["passport_no"] = f"M{rng.choice('STUZ')}{digits(7)}"
    elif i == 1:
        rec["kyc"]["license_no"] = licence()
    else:
        rec["kyc"]["my_number"] = my_number()
    rec["phone"] = f"080-{digits(4)}-{digits(4)}"
    lines.append(json.dumps(rec, ensure_ascii=False))
write("export/members.jsonl", "\n".join(lines) + "\n")

# 5. An order list full of look-alikes: none of it is an identification code.
rows = ["注文番号,受注日時,商品コード,JAN,数量,金額,配送伝票番号,郵便番号,電話番号,販売元法人番号"]
for i in range(24):
    rows.append(",".join([
        order_number_passing_my_number() if i % 2 == 0 else f"2026{digits(8)}",
        f"2026{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(0, 24):02d}{rng.randrange(0, 60):02d}",
        f"{rng.choice(['TK', 'MX', 'AB'])}{digits(7)}",
        jan(),
        str(rng.randrange(1, 9)),
        f"{rng.randrange(1000, 99999)}円",
        g(tracking()),
        f"{digits(3)}-{digits(4)}",
        f"03-{digits(4)}-{digits(4)}",
        corporate(),
    ]))
write("orders/orders_2026-10.csv", "\n".join(rows) + "\n")

# 6. A clinic export (要配慮個人情報): sensitive columns in a table that names patients.
rows = ["患者ID,氏名,生年月日,病名,既往歴,処方薬,備考"]
for i, n in enumerate(NAMES[:4]):
    rows.append(",".join([
        f"P-{2001 + i}", n, f"19{rng.randrange(50, 99)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 9)}",
        ["2型糖尿病", "高血圧症", "気管支喘息", "うつ病"][i], ["なし", "脂質異常症", "なし", "なし"][i],
        ["メトホルミン錠500mg", "アムロジピン錠5mg", "吸入ステロイド", "セルトラリン錠25mg"][i], "次回予約済み",
    ]))
write("clinic/受診記録_2026-10.csv", "\n".join(rows) + "\n")

# 7. An HR memo on a conviction and a union list: sensitive keywords about named people.
write("memo/人事相談記録.txt", f"""人事相談記録（2026年9月3日）

社員番号 E{rng.randrange(1000, 9999)} {NAMES[2]}さんについて、本人から申告があった。
2025年に窃盗罪で有罪判決を受け、執行猶予中とのこと。配置については別途検討する。

システム障害の報告（9月2日 通信障害、障害対応済み）は情報システム部に回付した。
""")
rows = ["社員番号,氏名,所属組合,組合員区分"]
for i, n in enumerate(NAMES[:3]):
    rows.append(f"E{3001 + i},{n},本社労働組合,{['一般組合員', '執行委員', '一般組合員'][i]}")
write("hr/組合員名簿.csv", "\n".join(rows) + "\n")

# 8. A face-recognition enrolment export: embeddings and ISO/IEC 19794-2 templates
#    (synthetic vectors and random minutiae bytes: biometric data of nobody).
import base64
import math
lines = []
for i, n in enumerate(NAMES[:3]):
    v = [rng.gauss(0, 1) for _ in range(128)]
    norm = math.sqrt(sum(x * x for x in v))
    fmr = b"FMR\x00 20\x00" + bytes(rng.randrange(256) for _ in range(40))
    lines.append(json.dumps({
        "employee_id": f"E{1001 + i}", "name": n,
        "face_embedding": [round(x / norm, 6) for x in v],
        "fingerprint_template": base64.b64encode(fmr).decode(),
    }, ensure_ascii=False))
write("biometric/enrolment.jsonl", "\n".join(lines) + "\n")

# 9. A backup archive: a zip holding a tar.gz of a CSV, and a Word memo whose My Number is
#    split across formatting runs.
import io
import tarfile
import zipfile
csv_bytes = ("氏名,個人番号\n" + "\n".join(f"{n},{g(my_number())}" for n in NAMES[:2]) + "\n").encode()
tar_buf = io.BytesIO()
with tarfile.open(fileobj=tar_buf, mode="w:gz") as t:
    info = tarfile.TarInfo("export/payroll_2026.csv")
    info.size = len(csv_bytes)
    info.mtime = 1790000000
    t.addfile(info, io.BytesIO(csv_bytes))
mn = my_number()
doc = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
       'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>扶養親族のマイナンバー：</w:t></w:r>'
       f'<w:r><w:t>{mn[:4]}</w:t></w:r><w:r><w:t xml:space="preserve"> {mn[4:8]} </w:t></w:r>'
       f'<w:r><w:t>{mn[8:]}</w:t></w:r></w:p></w:body></w:document>')
docx = io.BytesIO()
with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo("[Content_Types].xml", (2026, 10, 1, 0, 0, 0)), "<Types/>")
    z.writestr(zipfile.ZipInfo("word/document.xml", (2026, 10, 1, 0, 0, 0)), doc)
full = os.path.join(ROOT, "archive", "backup_2026-10.zip")
os.makedirs(os.path.dirname(full), exist_ok=True)
with zipfile.ZipFile(full, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo("hr/payroll.tar.gz", (2026, 10, 1, 0, 0, 0)), tar_buf.getvalue())
    z.writestr(zipfile.ZipInfo("memo/扶養控除メモ.docx", (2026, 10, 1, 0, 0, 0)), docx.getvalue())

print("samples written to", os.path.normpath(ROOT))
