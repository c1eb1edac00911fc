"""« Everyone takes part », in a real browser on the demo data: an action lead proposes a fiche,
the coordination takes it up with a working group, the lead completes it, the COTECH gives
its opinion, the COPIL decides in a séance whose chair validates the minutes, which every member
then reads; and a resident proposes an idea on the public page that the coordination publishes.
"""

import datetime
import re
import time
from zoneinfo import ZoneInfo

from .test_copil_journey import give_opinion, log_in, log_out

CLS = "CLS Val-de-Lys 2024-2028"
TITLE = "Permanences d'accès aux droits santé au CCAS"
GROUP = "Accès aux droits"
PLACE = "Mairie annexe du Centre-Gare, salle Jean-Jaurès"
RESERVATION = "Utile ; prévoir un interprétariat pour les permanences du samedi."
MINUTES = (
    "Le COPIL valide les permanences d'accès aux droits santé au CCAS, en tenant compte de "
    "l'avis réservé du COTECH sur l'interprétariat."
)


def open_programme(page):
    page.click(f"h2 a:has-text('{CLS}')")
    page.wait_for_selector(f"h1:has-text('{CLS}')")


def state(page) -> str:
    return page.locator("p > .state").inner_text()


def earlier_today() -> str:
    """A séance that has just taken place, as a datetime-local field takes it (Paris time):
    an hour ago, or midnight if the day has just begun."""
    now = datetime.datetime.now(ZoneInfo("Europe/Paris")).replace(second=0, microsecond=0)
    then = max(now - datetime.timedelta(hours=1), now.replace(hour=0, minute=0))
    return then.strftime("%Y-%m-%dT%H:%M")


def test_lead_proposes_cotech_opines_copil_decides_in_a_seance(browser_page, demo_server):
    page, url = browser_page, demo_server

    # An action lead proposes; the proposal is theirs to follow.
    log_in(page, url, "porteur.ccas")
    open_programme(page)
    page.click("text=Proposer une action")
    page.fill("#id_title", TITLE)
    page.fill(
        "#id_context",
        "Des habitants du Centre-Gare renoncent à des soins faute de complémentaire santé.",
    )
    page.select_option("#id_lead_organisation", label="CCAS de Lys-sur-Marque")
    page.click("button:has-text('Enregistrer')")
    page.wait_for_selector("text=La fiche action est proposée : la coordination l'examine.")
    assert page.locator("h1").inner_text() == TITLE
    assert state(page) == "Proposée"
    assert "proposée par Sylvie Chevalier" in page.locator("p:has(> .state)").inner_text()
    action_url = page.url
    page.click(f"a:has-text('← {CLS}')")
    mine = page.locator("section:has(h2:has-text('Mes propositions'))")
    assert re.search(rf"{re.escape(TITLE)}\s*—\s*Proposée", mine.inner_text())
    log_out(page)

    # The coordination takes it into co-construction with a working group.
    log_in(page, url, "coordinatrice")
    page.goto(action_url)
    page.select_option("#wg-start_co_construction", label=GROUP)
    page.click("button:has-text('Lancer la co-construction')")
    page.wait_for_selector("text=« Lancer la co-construction » : fait.")
    assert state(page) == "En co-construction"
    assert page.locator("dt:has-text('Groupe de travail') + dd").inner_text() == GROUP
    log_out(page)

    # The lead completes their part: the fiche must be complete to go to the COPIL.
    log_in(page, url, "porteur.ccas")
    page.goto(action_url)
    page.click("text=Modifier la fiche")
    page.select_option(
        "#id_objective", label="Réduire le renoncement aux soins des habitants des QPV"
    )
    page.fill("#id_target_public", "Habitants du Centre-Gare sans complémentaire santé")
    page.fill("#id_planned_start", "2027-02-01")
    page.fill("#id_planned_end", "2027-12-17")
    page.click("button:has-text('Enregistrer')")
    page.wait_for_selector("text=Modifications enregistrées.")
    page.click("summary:has-text('Ajouter une ligne budgétaire')")
    page.fill("#id_budget-year", "2027")
    page.select_option("#id_budget-category", label="Frais de personnel")
    page.fill("#id_budget-planned", "6200,00")
    page.click("button:has-text('Ajouter la ligne')")
    page.wait_for_selector("text=Ligne budgétaire ajoutée")
    page.click("summary:has-text('Ajouter un indicateur')")
    page.select_option("#id_indicator-kind", label="Résultat")
    page.fill("#id_indicator-label", "Dossiers de complémentaire santé ouverts")
    page.fill("#id_indicator-target", "80")
    page.click('button:has-text("Ajouter l\'indicateur")')
    page.wait_for_selector("text=Indicateur ajouté")
    log_out(page)

    # The coordinator submits it; the COTECH's two opinions are awaited.
    log_in(page, url, "coordinatrice")
    page.goto(action_url)
    page.click("button:has-text('Soumettre au COPIL')")
    page.wait_for_selector(".state:has-text('Soumise au COPIL')")
    opinions = page.locator("#avis")
    assert "Avis technique du COTECH (version 1)" in opinions.locator("h2").inner_text()
    missing = opinions.locator(".notice").inner_text()
    assert "Julien Petit" in missing and "Dr Hugo Perrin" in missing
    log_out(page)

    give_opinion(page, url, "cotech", action_url, "Favorable", "Répond au diagnostic local.")
    give_opinion(page, url, "porteur.epsm", action_url, "Réservé", RESERVATION)

    # The COPIL member reads both opinions, then convenes the séance that decides.
    log_in(page, url, "elue")
    page.goto(action_url)
    rows = page.locator("#avis tbody tr")
    assert rows.count() == 2
    favourable = rows.filter(has_text="Julien Petit").inner_text()
    reserved = rows.filter(has_text="Dr Hugo Perrin").inner_text()
    assert "Favorable" in favourable and "Répond au diagnostic local." in favourable
    assert "Réservé" in reserved and RESERVATION in reserved
    assert page.locator("#avis .notice").count() == 0  # nothing missing any more
    assert page.locator("#avis form").count() == 0  # not a COTECH member

    page.click(f"a:has-text('← {CLS}')")
    page.click("text=Séances (COPIL, COTECH…)")
    page.select_option("#id_body", label="Comité de pilotage (COPIL)")
    page.fill("#id_date", earlier_today())
    page.fill("#id_place", PLACE)
    page.click("button:has-text('Créer la séance')")
    page.wait_for_selector("text=Séance créée")
    meeting_url = page.url
    item = page.locator(".agenda-item", has_text=TITLE)
    assert "inscrite « Soumise au COPIL »" in item.inner_text()

    page.select_option("#chair", label="Nadia Benali")
    page.click("summary:has-text('Co-animation')")
    page.locator("details.attendance label", has_text="Camille Martin").locator("input").check()
    attendance = page.locator("fieldset.attendance")
    for name in ("Nadia Benali", "Pierre Lefebvre", "Camille Martin"):
        attendance.locator("label", has_text=name).locator("input").check()
    item.locator("select").select_option(label="Valider")
    item.locator("textarea").fill("Sous réserve d'un interprétariat le samedi.")
    page.click("button:has-text('Enregistrer et appliquer toutes les décisions')")
    page.wait_for_selector("text=Les décisions de la séance ont été appliquées.")
    assert "décisions appliquées le" in page.locator("p.muted").first.inner_text()
    assert "aujourd'hui « Validée »" in item.inner_text()
    assert page.locator("button:has-text('Enregistrer et appliquer')").count() == 0

    item.get_by_role("link", name=TITLE).click()
    assert state(page) == "Validée"
    approved = page.locator("table.timeline tbody tr", has_text="Valider").inner_text()
    assert "Nadia Benali" in approved and "présidence : Nadia Benali" in approved
    log_out(page)

    # The coordinator, an animator, drafts the minutes; she does not validate them.
    log_in(page, url, "coordinatrice")
    page.goto(meeting_url)
    page.fill("#id_minutes", MINUTES)
    page.click("button:has-text('Enregistrer le projet')")
    page.wait_for_selector("text=Projet de compte rendu enregistré")
    assert page.locator("button:has-text('Valider le compte rendu')").count() == 0
    log_out(page)

    # Another COPIL member, not the chair, cannot validate them either.
    log_in(page, url, "copil.ars")
    page.goto(meeting_url)
    assert "Compte rendu" in page.locator("body").inner_text()
    assert page.locator("button:has-text('Valider le compte rendu')").count() == 0
    log_out(page)

    # The chair validates: the minutes are published.
    log_in(page, url, "elue")
    page.goto(meeting_url)
    page.click("button:has-text('Valider le compte rendu')")
    page.wait_for_selector("text=Compte rendu validé : il est publié aux membres.")
    log_out(page)

    # The lead reads the published minutes with the decision on their fiche.
    log_in(page, url, "porteur.ccas")
    open_programme(page)
    page.click("text=Séances (COPIL, COTECH…)")
    row = page.locator("tbody tr", has_text=PLACE)
    assert "Comité de pilotage (COPIL)" in row.inner_text()
    assert "appliquées le" in row.inner_text()
    row.locator("a:has-text('compte rendu validé')").click()
    minutes = page.locator("article.minutes")
    text = minutes.inner_text()
    assert "Présidence : Nadia Benali" in text and "Co-animation : Camille Martin" in text
    decided = minutes.locator("tbody tr", has_text=TITLE).inner_text()
    assert "Validée" in decided and "interprétariat le samedi" in decided
    assert MINUTES in text
    assert "Compte rendu validé par la présidence le" in text
    assert "Projet : ce compte rendu" not in text


def test_resident_proposes_and_coordination_publishes(browser_page, demo_server):
    page, url = browser_page, demo_server
    idea = "Un atelier vélo-santé pour les collégiens de Bois-Joli"

    log_in(page, url, "coordinatrice")
    open_programme(page)
    page.click("a[href$='/propositions-habitants/']")
    public_url = page.locator(".public-link a").get_attribute("href")
    log_out(page)

    # A resident, without an account, on the public page.
    page.goto(url + public_url)
    assert "Pas besoin de compte" in page.locator("body").inner_text()
    page.fill("#id_idea", idea)
    page.fill("#id_need", "Les jeunes du quartier bougent peu et n'ont pas de vélo en état.")
    page.fill("#id_neighbourhood", "Bois-Joli")
    time.sleep(3.5)  # a person reads the form first: a post within 3 s is refused
    page.click("button:has-text('Envoyer ma proposition')")
    page.wait_for_selector("text=Merci, votre proposition a bien été reçue")

    # The coordination publishes it from the moderation queue.
    log_in(page, url, "coordinatrice")
    open_programme(page)
    page.click("a[href$='/propositions-habitants/']")
    # Its own card (the other pending cards list every active fiche, soon this one too).
    card = page.locator("article.proposal", has=page.locator("h2", has_text=idea))
    assert card.locator(".state").inner_text() == "À modérer"
    card.locator("button:has-text('Publier comme fiche proposée')").click()
    page.wait_for_selector("text=« Publier comme fiche proposée » : fait.")
    assert card.locator(".state").first.inner_text() == "Publiée comme fiche proposée"
    assert card.locator(".state").nth(1).inner_text() == "Proposée"  # the fiche it became
    card.locator("a", has_text=idea).click()
    assert page.locator("h1").inner_text() == idea
    assert state(page) == "Proposée"
    assert "proposition d'habitant·es" in page.locator("p:has(> .state)").inner_text()
