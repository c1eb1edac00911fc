"""The resource unit's hard rule: nothing typed into Coordo about its sessions may name a
person. Named patients' data needs certified health-data hosting (HDS) and must never be typed
into Coordo (DESIGN.md, "Out of scope"); the unit works here with anonymous counts only.

``personal_data_found`` looks for what betrays a person — a title followed by a name
(« M. Dupont », « Mme X »), a birth date (« né le… », a full date of a past year such as
12/03/1987) or a French social-security number (NIR: 13 digits and a 2-digit key, starting
with 1 or 2, with or without spaces) — and says which, in French. ``validate_anonymous`` is
the field validator the models use, so that every write (form, service, import) refuses it.
It errs on the side of refusing: a false alarm costs a rewording, a name typed costs a breach.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# A title of civility, then a capitalised word or a single initial: « M. Dupont », « Mme X »,
# « Madame Martin », « Dr Lefèvre ». « Madame la Maire » (a function, lowercase) passes.
_UPPER = "A-ZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸÆŒ"
_LOWER = "a-zàâäçéèêëîïôöùûüÿæœß"
_NAME_AFTER = rf"[{_UPPER}](?:[{_LOWER}'’\-]+|\.|(?![{_UPPER}{_LOWER}0-9]))"
_TITLE = re.compile(
    r"(?<![\w])(?:M\.|MM\.|Mr\.?|Mme\.?|Mmes|Mlle\.?|Melle|Madame|Monsieur|Mademoiselle|"
    r"Dr\.?|Docteur|Pr\.?|Professeur)\s*" + _NAME_AFTER
)
# « la famille Dupont », « Patient Martin », « l'enfant L. »: a person, named after a noun
# (the noun in any case, at the start of a sentence too).
_PERSON_NOUN = re.compile(
    r"(?<![\w])(?i:famille|patient|patiente|usager|usagère|enfant|fils|fille|époux|épouse|"
    r"mère|père|frère|sœur|soeur|monsieur|madame)\s+" + _NAME_AFTER
)
_BORN = re.compile(
    r"(?<![\w])(?:né|née|né\(e\)|né·e|nés|nées)\s+(?:le|en|à)\b|date\s+de\s+naissance|"
    r"(?<![\w])DDN(?![\w])",
    re.IGNORECASE,
)
_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4}|\d{2})(?!\d)")
# NIR: sex (1/2), year (2), month (2), department (2 digits, 2A, 2B), commune (3), order (3),
# key (2); spaces, dots or nothing between the groups.
_SEP = r"[ .\u00a0\u202f]?"
_NIR = re.compile(
    rf"(?<![\w])[12]{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}(?:\d{{2}}|2[AB]){_SEP}\d{{3}}{_SEP}\d{{3}}"
    rf"{_SEP}\d{{2}}(?![\w])",
    re.IGNORECASE,
)
# A full date this many years back or more is someone's birth date, not a session's.
BIRTH_YEARS_BACK = 10


def _old_date(match: re.Match, today: datetime.date) -> bool:
    day, month, year = (int(g) for g in match.groups())
    if len(match.group(3)) == 2:
        # « 12/03/87 »: a two-digit year after this one's is last century's.
        year += 1900 if year > today.year % 100 else 2000
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return False
    return year <= today.year - BIRTH_YEARS_BACK


def personal_data_found(text: str, *, today: datetime.date | None = None) -> str | None:
    """What in ``text`` looks like personal data (in French, with the excerpt), or None."""
    if not text:
        return None
    today = today or datetime.date.today()
    nir = _NIR.search(text)
    if nir:
        return _("un numéro de sécurité sociale (« {excerpt} »)").format(excerpt=nir.group(0))
    born = _BORN.search(text)
    if born:
        return _("une date de naissance (« {excerpt} »)").format(excerpt=born.group(0))
    for date in _DATE.finditer(text):
        if _old_date(date, today):
            return _("une date de naissance (« {excerpt} »)").format(excerpt=date.group(0))
    for pattern in (_TITLE, _PERSON_NOUN):
        name = pattern.search(text)
        if name:
            return _("le nom d'une personne (« {excerpt} »)").format(excerpt=name.group(0))
    return None


def refusal_message(found: str) -> str:
    return _(
        "Ce texte semble contenir {found}. La cellule ressource ne travaille dans Coordo "
        "qu'avec des nombres anonymes : les données nominatives des personnes (nom, date de "
        "naissance, numéro de sécurité sociale) relèvent d'un hébergement de données de santé "
        "certifié (HDS) et ne doivent jamais être saisies dans Coordo. Reformulez sans "
        "elles ; rien n'a été enregistré."
    ).format(found=found)


def validate_anonymous(text: str) -> None:
    """Field validator: refuses a text that looks like it names a person."""
    found = personal_data_found(text)
    if found:
        raise ValidationError(refusal_message(found), code="personal_data")
