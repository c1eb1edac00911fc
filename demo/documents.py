"""The demo's documents: the CLS's signed contract, diagnostic, partners' charter and first
amendment; a fiche's interim report; a séance's minutes and the next COPIL's convocation; a
funding agreement — each a small one-page PDF written here, attached through the services."""

from __future__ import annotations

from django.core.files.base import ContentFile

from funding.models import FundingRequest
from projects.models import ActionState, Meeting, Programme
from workflows import services


def pdf(title: str, *lines: str) -> bytes:
    """A one-page PDF showing ``title`` and ``lines`` (Latin-1 text, Helvetica)."""

    def text(value: str) -> str:
        escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return escaped.encode("latin-1", "replace").decode("latin-1")

    shown = [f"BT /F1 16 Tf 60 780 Td ({text(title)}) Tj ET"] + [
        f"BT /F1 11 Tf 60 {750 - 18 * i} Td ({text(line)}) Tj ET" for i, line in enumerate(lines)
    ]
    stream = "\n".join(shown).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _attach(owner, actor, kind: str, title: str, *lines: str) -> None:
    file = ContentFile(pdf(title, *lines), name=f"{kind}.pdf")
    services.attach_document(owner=owner, actor=actor, file=file, kind=kind, title=title)


def seed(*, cls: Programme, users: dict) -> None:
    coordinator = users["coordinatrice"]
    for kind, title, lines in (
        (
            "contract",
            "Contrat local de santé du Val-de-Lys 2024-2028 (signé)",
            [
                "Signé par l'ARS, la Ville, l'Agglomération, la Préfecture,",
                "le Département et la CPAM.",
            ],
        ),
        (
            "diagnostic",
            "Diagnostic local de santé du Val-de-Lys (2023)",
            ["Observatoire régional de la santé — synthèse et données par quartier."],
        ),
        (
            "charter",
            "Charte des partenaires du CLS",
            ["Engagements réciproques des partenaires et des habitant·es."],
        ),
        (
            "amendment",
            "Avenant n° 1 — prolongation et entrée de la CAF (signé)",
            ["Le contrat est prolongé jusqu'au 31 décembre 2029."],
        ),
    ):
        _attach(cls, coordinator, kind, title, *lines)
    running = cls.actions.filter(state=ActionState.IMPLEMENTATION).order_by("pk").first()
    if running is not None:
        _attach(
            running,
            coordinator,
            "report",
            "Bilan intermédiaire des ateliers",
            "Douze ateliers tenus, 140 participant·es.",
        )
    for meeting in Meeting.objects.filter(programme=cls).order_by("date"):
        if meeting.minutes_validated_at:
            _attach(meeting, coordinator, "minutes", "Compte rendu validé par la présidence")
        elif meeting.body == "copil":
            _attach(
                meeting,
                coordinator,
                "invitation",
                "Convocation et ordre du jour du COPIL",
                "Hôtel de ville, salle du conseil — 14 h.",
            )
    granted = (
        FundingRequest.objects.filter(action__programme=cls, state="agreement_signed")
        .select_related("action", "funder")
        .order_by("pk")
        .first()
    )
    if granted is not None:
        _attach(
            granted,
            coordinator,
            "agreement",
            f"Convention {granted.funder} — {granted.action.title}"[:200],
            "Convention de financement signée par le financeur et le porteur.",
        )
