"""The detector of likely personal data in residents' free text: it flags what a moderator must
check before publishing (dates of birth, social-security and phone numbers, named people,
e-mail addresses), and leaves ordinary descriptions of a need alone."""

import pytest

from projects.personal_data import describe, detect


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Ma voisine, née le 3 mars 1950, ne voit plus de médecin", "birth_date"),
        ("Mon fils (12/04/2009) attend un rendez-vous en CMP", "birth_date"),
        ("Son numéro de sécu : 1 85 05 78 006 084 36", "social_security"),
        ("numéro 185057800608436 pour le dossier", "social_security"),
        ("Appelez-moi au 06 12 34 56 78", "phone"),
        ("ou au +33 6 12 34 56 78 le soir", "phone"),
        ("tél. 01.23.45.67.89", "phone"),
        ("Mme Dupont ne sort plus de chez elle", "named_person"),
        ("M. Martin a fait une dépression", "named_person"),
        ("écrivez à jean.dupont@example.org", "email"),
    ],
)
def test_flags_personal_data(text, code):
    assert code in detect(text)


@pytest.mark.parametrize(
    "text",
    [
        "Des ateliers cuisine pour les familles du quartier des Hauts-Prés en 2026",
        "Un lieu d'écoute pour les jeunes le mercredi après-midi, de 14 h à 18 h",
        "Plus de bancs et d'ombre sur le parcours santé : 2 km autour du lac",
        "Le bus 12 ne passe plus qu'une fois par heure depuis septembre 2025",
        "Une permanence CPAM deux fois par mois à la maison France services",
    ],
)
def test_does_not_flag_ordinary_texts(text):
    assert detect(text) == []


def test_reads_every_text_given_and_describes_in_french():
    codes = detect("Une idée", "", "Mme Dupont, 06 12 34 56 78")
    assert set(codes) == {"named_person", "phone"}
    assert describe(codes) == ["un numéro de téléphone", "le nom d'une personne"]
    assert describe(["unknown"]) == []
