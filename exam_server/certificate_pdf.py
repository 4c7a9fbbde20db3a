"""The printable certificates, skill and award alike: an A4 landscape page with the holder's particulars, the
number, and a QR code carrying the signed payload (see certificate_signing). The payload is also stored in the
PDF's keywords, after ``EXCERT1 ``, so that `examctl cert verify FILE.pdf` needs no QR decoder.

Chinese text needs a CJK font (fonts.py: EXAM_PDF_FONT or Noto Sans CJK from the machine); without one the PDF
is refused with a clear message, never fetched.
"""
from __future__ import annotations

import io
import re
from typing import Optional

from .certificate_signing import PAYLOAD_MARK, mask_id
from .fonts import cjk_font
from .errors import UserError
from .models import LEVEL_NAMES_ZH, Certificate


def _qr_png(payload: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make_qr(payload, error="m").save(buffer, kind="png", scale=4, border=2)
    return buffer.getvalue()


def render(cert: Certificate, payload: Optional[str]) -> bytes:
    """The certificate as PDF bytes; ``payload`` is the QR payload (None for a legacy, unsigned record)."""
    lines = [("姓名", cert.holder_name), ("证件号码", mask_id(cert.id_number)), ("职业(工种)", cert.occupation),
             ("等级", LEVEL_NAMES_ZH.get(cert.level, str(cert.level))), ("证书编号", cert.number),
             ("评价机构", cert.issuer), ("发证日期", cert.issued_on)]
    if cert.legacy:
        lines.append(("说明", "历史证书导入记录"))
    revoked = cert.revoked_reason if cert.revoked_at is not None else None
    return _document("职业技能等级证书", f"职业技能等级证书 {cert.number}", lines, payload, cert.key_id, revoked)


def render_award(view: dict, payload: str) -> bytes:
    """An award certificate (award_certificates.public_view) as PDF bytes, with its QR payload."""
    members = "、".join(f"{m['name']}({m['id_mask']})" if m["id_mask"] else m["name"] for m in view["members"])
    lines = [("竞赛", view["competition"]), ("获奖者", view["name"]), ("参赛号", view["bib"]),
             ("代表队", view["delegation"])] + ([("成员", members)] if members else []) + [
            ("奖项", f"{view['medal_name']}(第 {view['rank']} 名,总分 {view['total']})"),
            ("证书编号", view["number"]), ("颁发单位", view["issuer"]), ("颁发日期", view["issued_on"])]
    revoked = view["revoked_reason"] if view["revoked"] else None
    return _document("技能竞赛获奖证书", f"技能竞赛获奖证书 {view['number']}", lines, payload, view["key_id"], revoked)


def _document(heading: str, title: str, lines: list, payload: Optional[str], key_id: Optional[str],
              revoked_reason: Optional[str]) -> bytes:
    font = cjk_font()
    if font is None:
        raise UserError("certificates.no_cjk_font", 503)
    from fpdf import FPDF

    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("cjk", fname=font[0], collection_font_number=font[1])
    pdf.set_title(title)
    if payload:
        pdf.set_keywords(f"{PAYLOAD_MARK} {payload}")
    pdf.add_page()
    _layout(pdf, heading, lines, payload, key_id, revoked_reason)
    return bytes(pdf.output())


def _layout(pdf, heading: str, lines: list, payload: Optional[str], key_id: Optional[str],
            revoked_reason: Optional[str]) -> None:
    pdf.set_draw_color(150, 30, 30)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_font("cjk", size=30)
    pdf.set_xy(10, 28)
    pdf.cell(277, 14, heading, align="C")
    pdf.set_font("cjk", size=14)
    for row, (label, value) in enumerate(lines):
        pdf.set_xy(40, 62 + row * 13)
        pdf.cell(40, 10, f"{label}:")
        pdf.cell(150, 10, value)
    if payload:
        pdf.image(io.BytesIO(_qr_png(payload)), x=215, y=120, w=58, h=58)
        pdf.set_font("cjk", size=8)
        pdf.set_xy(200, 180)
        pdf.cell(87, 6, f"扫码验证 · 签名密钥 {key_id}", align="C")
    if revoked_reason is not None:
        pdf.set_text_color(200, 0, 0)
        pdf.set_font("cjk", size=24)
        pdf.set_xy(10, 160)
        pdf.cell(277, 12, f"已撤销:{revoked_reason}", align="C")


def payload_from_pdf(data: bytes) -> Optional[str]:
    """The QR payload kept in a certificate PDF's keywords (fpdf2 writes ASCII metadata as a literal string)."""
    match = re.search(rb"/Keywords\s*\(" + PAYLOAD_MARK.encode() + rb" ([^)]*)\)", data)
    if match:
        return match.group(1).decode("ascii", "replace").replace("\\", "")
    match = re.search(rb"/Keywords\s*<FEFF([0-9A-Fa-f]+)>", data)     # UTF-16 hex form
    if match:
        text = bytes.fromhex(match.group(1).decode()).decode("utf-16-be")
        if text.startswith(PAYLOAD_MARK + " "):
            return text[len(PAYLOAD_MARK) + 1:]
    return None
