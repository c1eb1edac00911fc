"""From the demo data: the COPIL closes an evaluated fiche from its task list; the coordinator
reads the dashboard, produces the year's report and the audit-trail export. Real browser."""

import datetime

from openpyxl import load_workbook

from .test_copil_journey import log_in

EVALUATED = "Médiation santé dans les quartiers prioritaires"
CLS = "CLS Val-de-Lys 2024-2028"


def download(page, click):
    with page.expect_download() as info:
        click()
    with open(info.value.path(), "rb") as file:  # the saved download has no extension
        return load_workbook(file)


def test_copil_closes_and_coordinator_reports_to_the_ars(browser_page, demo_server):
    page, url = browser_page, demo_server

    log_in(page, url, "elue")
    page.goto(url + "/coordo/taches/")
    row = page.locator("table.tasks tr", has_text=EVALUATED)
    assert "Clôturer" in row.inner_text()
    row.locator("a", has_text=EVALUATED).click()
    assert "Le rapport d'évaluation" in page.locator("body").inner_text()  # shown to the COPIL
    page.click("button:has-text('Clôturer')")
    page.wait_for_selector("text=« Clôturer » : fait.")
    assert page.locator("p > .state").inner_text() == "Clôturée"
    page.click("button:has-text('Se déconnecter')")

    log_in(page, url, "coordinatrice")
    page.click(f"h2 a:has-text('{CLS}')")
    page.click("text=Tableau de bord")
    assert page.locator("svg[role=img]").count() >= 4
    page.go_back()

    page.click("text=Rapport annuel")
    year = datetime.date.today().year
    assert page.locator("h1").inner_text() == f"Rapport annuel {year}"
    report = download(page, lambda: page.click("text=Télécharger le classeur (xlsx)"))
    assert report.sheetnames[0] == "1. Fiches par axe et état"
    transitions = [[c.value for c in r] for r in report["2. Transitions par mois"].iter_rows()]
    assert any(r[0] == "Clôturer" for r in transitions)
    page.go_back()

    page.click("text=Journal d'audit (export)")
    trail = download(page, lambda: page.click("button:has-text('Télécharger (xlsx)')"))
    header = {r[0].value: r[1].value for r in trail["Vérification"].iter_rows(min_row=2)}
    assert header["Chaîne d'empreintes vérifiée intacte"] == "oui"
    assert len(header["Empreinte du dernier événement (SHA-256)"]) == 64
    events = [[c.value for c in r] for r in trail["Journal"].iter_rows(min_row=2)]
    closed = [e for e in events if e[6] == "Clôturer" and EVALUATED in (e[4] or "")]
    assert len(closed) == 1 and "Nadia Benali" in closed[0][2]


def test_funder_decides_from_its_task_list(browser_page, demo_server):
    page, url = browser_page, demo_server
    log_in(page, url, "financeur.ars")
    page.goto(url + "/coordo/taches/")
    row = page.locator("table.tasks tr", has_text="Décision du financeur").first
    assert "ARS" in row.inner_text()
    row.locator("a", has_text="Décision du financeur").click()
    assert "Décision attendue du financeur" in page.locator("body").inner_text()
    requested = page.locator("dd").first.inner_text()  # « 3 000,00 € », copied as displayed
    page.fill("#id_grant-amount", requested)
    page.fill("#id_grant-decision_date", "2026-11-20")
    page.fill("#id_grant-reference", "ARS-DD59-2026-118")
    page.click("form:has(#id_grant-amount) button[type=submit]")
    page.wait_for_selector("text=Accordée")
    assert "Décision attendue du financeur" not in page.locator("body").inner_text()
    page.goto(url + "/coordo/taches/")
    assert page.locator("table.tasks tr", has_text="Décision du financeur").count() == 0
