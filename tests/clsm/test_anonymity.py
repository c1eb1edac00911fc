"""The resource unit's hard rule: the detector refuses what looks like a person — a title and
a name, a birth date, a social-security number — and lets ordinary text through."""

import datetime

import pytest

from clsm.anonymity import personal_data_found

TODAY = datetime.date(2026, 11, 29)


@pytest.mark.parametrize(
    "text",
    [
        "Situation de M. Dupont, logement insalubre",
        "Mme X orientée vers le CMP",
        "Madame Martin ne sort plus de chez elle",
        "vu avec Monsieur Lefèvre et sa fille",
        "Mlle Dubois, 24 ans",
        "Dr Roussel a été sollicité",
        "la famille Benali est suivie",
        "Famille Dupont : relogement en cours",
        "Patient Martin hospitalisé",
        "patient Martin hospitalisé",
        "né le 3 mars, suivi par le CMP",
        "née le 12/03/1987",
        "né(e) le 1er mai",
        "date de naissance : 12 mars",
        "personne accompagnée, 12/03/1987",
        "DDN 04.07.1979",
        "12-03-87 à confirmer",
        "NIR 1 85 03 75 123 456 78",
        "185037512345678",
        "2 69 05 2A 123 456 12",
        "sécu 2.69.05.49.588.157.80",
    ],
)
def test_refuses_what_looks_like_a_person(text):
    assert personal_data_found(text, today=TODAY)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Maison de santé pluriprofessionnelle de Bois-Joli",
        "Mission locale du Val-de-Lys et CCAS",
        "Madame la Maire a présidé ; Monsieur le Préfet excusé",
        "12 000 € engagés en 2026, 15 000,50 € en 2027",
        "3 situations de logement, 2 orientations vers le CMP",
        "Prochaine séance le 12/03/2026 à 14 h",
        "Séance du 04/11/2025",
        "Années 1987, 2024 et 2026",
        "Tél. de la cellule : 03 20 12 34 56",
        "usager du GEM, situation complexe",
        "MSP, CPTS, DAC et PTSM informés",
        "Délais d'accès au CMP adulte signalés par plusieurs partenaires.",
        "Semaine SISM du 06/10 au 19/10",
        "Mme la directrice du CCAS",
    ],
)
def test_lets_ordinary_text_through(text):
    assert personal_data_found(text, today=TODAY) is None


def test_the_reason_names_what_was_found():
    assert "nom d'une personne" in personal_data_found("M. Dupont", today=TODAY)
    assert "date de naissance" in personal_data_found("née le 2 mai", today=TODAY)
    assert "sécurité sociale" in personal_data_found("1 85 03 75 123 456 78", today=TODAY)
