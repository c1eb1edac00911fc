"""A coordinator proposes a fiche, completes it and submits it; the CLS has a COTECH, so its two
members give their opinion first; then a COPIL member approves it from their inbox. Real
browser (Debian's chromium), real server, demo data."""

import re

TITLE = "Ateliers de prévention bucco-dentaire au collège Jean-Moulin"


def log_in(page, url, username):
    page.goto(url + "/comptes/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "coordo-demo")
    page.click("button[type=submit]")
    page.wait_for_url(url + "/coordo/")


def log_out(page):
    page.click("button:has-text('Se déconnecter')")


def give_opinion(page, url, username, action_url, verdict, text):
    """A COTECH member gives their (motivated) technical opinion on the fiche submitted to the
    COPIL."""
    log_in(page, url, username)
    page.goto(action_url)
    opinions = page.locator("#avis")
    opinions.get_by_label(verdict, exact=True).check()
    opinions.get_by_label("Motivation").fill(text)
    opinions.locator("button:has-text('Rendre mon avis')").click()
    page.wait_for_selector("text=Votre avis est enregistré.")
    log_out(page)


def test_coordinator_proposes_and_copil_member_approves(browser_page, demo_server):
    page, url = browser_page, demo_server

    log_in(page, url, "coordinatrice")
    page.click("h2 a:has-text('CLS Val-de-Lys 2024-2028')")
    page.click("text=Proposer une action")
    page.fill("#id_title", TITLE)
    page.select_option("#id_objective", label="Développer l'éducation à la santé dès l'enfance")
    page.fill("#id_target_public", "Élèves de 6e et 5e du quartier Les Hauts-Prés")
    page.select_option("#id_lead_organisation", label="Association Prévention Santé Lys")
    page.fill("#id_planned_start", "2027-01-11")
    page.fill("#id_planned_end", "2027-06-30")
    page.click("button:has-text('Enregistrer')")
    page.wait_for_selector("text=La fiche action est proposée")
    assert page.locator("h1").inner_text() == TITLE

    page.click("button:has-text('Lancer la co-construction')")
    page.wait_for_selector(".state:has-text('En co-construction')")
    page.click("summary:has-text('Ajouter une ligne budgétaire')")
    page.fill("#id_budget-year", "2027")
    page.select_option("#id_budget-category", label="Prestations de services")
    page.fill("#id_budget-planned", "4500,00")
    page.click("button:has-text('Ajouter la ligne')")
    page.wait_for_selector("text=Ligne budgétaire ajoutée")
    page.click("summary:has-text('Ajouter un indicateur')")
    page.select_option("#id_indicator-kind", label="Processus")
    page.fill("#id_indicator-label", "Nombre d'élèves sensibilisés")
    page.fill("#id_indicator-target", "240")
    page.click('button:has-text("Ajouter l\'indicateur")')
    page.wait_for_selector("text=Indicateur ajouté")
    page.click("button:has-text('Soumettre au COPIL')")
    page.wait_for_selector(".state:has-text('Soumise au COPIL')")
    action_url = page.url
    missing = page.locator("#avis .notice").inner_text()
    assert "Julien Petit" in missing and "Dr Hugo Perrin" in missing
    log_out(page)

    # Not before the COTECH's opinion: the COPIL member is told why, and nothing changes.
    log_in(page, url, "elue")
    page.goto(action_url)
    page.click("button:has-text('Valider')")
    page.wait_for_selector("text=Le COPIL décide après l'avis du COTECH")
    assert page.locator("p > .state").inner_text() == "Soumise au COPIL"
    log_out(page)
    give_opinion(page, url, "cotech", action_url, "Favorable", "Besoin repéré par la PMI.")
    give_opinion(
        page, url, "porteur.epsm", action_url, "Réservé", "À articuler avec le bus dentaire."
    )

    log_in(page, url, "elue")
    inbox = page.locator("table.tasks").nth(1)
    row = inbox.locator("tr", has_text=TITLE)
    assert "Valider, demander des modifications ou rejeter" in row.inner_text()
    row.locator("a", has_text=TITLE).click()
    assert page.url == action_url
    page.fill("#c-approve", "Avis favorable, à articuler avec le bus dentaire.")
    page.click("button:has-text('Valider')")
    page.wait_for_selector("text=« Valider » : fait.")

    assert page.locator("p > .state").inner_text() == "Validée"
    timeline = page.locator("table.timeline tbody")
    submitted = timeline.locator("tr", has_text="Soumettre au COPIL")
    approved = timeline.locator("tr", has_text="Valider")
    assert submitted.count() == 1 and approved.count() == 1
    assert re.search(r"Soumise au COPIL\s*→\s*Validée", approved.inner_text())
    assert "Nadia Benali" in approved.inner_text()
    assert "Camille Martin" in submitted.inner_text()
