"""Spotting what looks like personal data about someone in free text — a date of birth, a
social-security number, a phone number or an e-mail address, « M. / Mme » and a name — so that
a moderator checks it before anything is published. Coordo never holds named health data (no
HDS hosting): the forms say so, and this catches what slips through. A hint, not a proof: it
errs on the side of flagging."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

PATTERNS = {
    "birth_date": (
        _("une date de naissance"),
        re.compile(
            r"\bn[ée]e?s?\s+le\b|\b\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*(19|20)\d{2}\b",
            re.IGNORECASE,
        ),
    ),
    "social_security": (
        _("un numéro de sécurité sociale"),
        re.compile(r"\b[12]\s?\d{2}\s?(0[1-9]|1[0-2]|[2-9]\d)\s?(\d{2}|2[AB])\s?\d{3}\s?\d{3}"),
    ),
    "phone": (
        _("un numéro de téléphone"),
        re.compile(r"(?<!\d)(?:\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)"),
    ),
    "email": (_("une adresse électronique"), re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    "named_person": (
        _("le nom d'une personne"),
        re.compile(
            r"\b(?:M\.|Mr\.?|Mme|Mlle|Monsieur|Madame|Mademoiselle|Dr\.?|Docteur)\s+"
            r"[A-ZÀ-Ý][\w'’-]+"
        ),
    ),
}


def detect(*texts: str) -> list[str]:
    """The kinds of personal data the texts seem to contain (codes of ``PATTERNS``)."""
    text = "\n".join(t for t in texts if t)
    return [code for code, (_label, pattern) in PATTERNS.items() if pattern.search(text)]


def describe(codes: list[str]) -> list[str]:
    """The kinds found, in words."""
    return [str(PATTERNS[code][0]) for code in codes if code in PATTERNS]
