"""« Everyone takes part », in a real browser on the demo data: an action lead proposes a fiche,
the coordination takes it up with a working group, the lead completes it, the COTECH gives
its opinion, the COPIL decides in a séance whose chair validates the minutes, which every member
then reads; and a resident proposes an idea on the public page that the coordination publishes.

After each step, the mails that step caused — as their recipients read them (the demo server
sends its outbox after each request, as in development, into files: see ``conftest.py``).
"""

import datetime
import re
import time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar

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
DOMAIN = "val-de-lys.example"  # the demo's people are <username>@val-de-lys.example
PARIS = ZoneInfo("Europe/Paris")
# Who has a part in the CLS journey: nobody else is written to (the CLSM's own COPIL member,
# copil.epsm, least of all).
CLS_PEOPLE = {"coordinatrice", "porteur.ccas", "cotech", "porteur.epsm", "elue", "copil.ars"}


class Inbox:
    """The mails of the journey, step by step: ``new()`` gives those written since the last
    call."""

    def __init__(self, mailbox):
        self.mailbox = mailbox
        self.mark = mailbox.mark()
        self.journey = []

    def new(self) -> list:
        mails = self.mailbox.since(self.mark)
        self.mark = self.mailbox.mark()
        self.journey += mails
        return mails


def who_got(mails) -> dict[str, list[str]]:
    """Each recipient (a demo username, else the address) and the subjects they received."""
    got: dict[str, list[str]] = {}
    for mail in mails:
        assert len(mail.to) == 1, mail  # one message per person: nobody sees the others
        user, _, domain = mail.to[0].partition("@")
        got.setdefault(user if domain == DOMAIN else mail.to[0], []).append(mail.subject)
    return {person: sorted(subjects) for person, subjects in got.items()}


def links_to(mail, url: str) -> bool:
    """The mail points to the page, on this server (its SITE_URL)."""
    return bool(re.search(rf"{re.escape(url)}(\s|$)", mail.text))


def read(mail) -> None:
    """What every message is: French, addressed, with its HTML version."""
    assert mail.text.startswith("Bonjour,"), mail.text
    assert "Coordo — message automatique" in mail.text
    assert mail.html.strip()


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


def test_lead_proposes_cotech_opines_copil_decides_in_a_seance(browser_page, demo_server, mailbox):
    page, url = browser_page, demo_server
    inbox = Inbox(mailbox)

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
    action_path = urlsplit(action_url).path
    fiche = f"fiche « {TITLE} »"

    # The coordination has a task: triage the proposal.
    triage = (
        "À faire : Lancer la co-construction, fusionner avec une autre fiche ou ne pas retenir "
        f"— {fiche}"
    )
    mails = inbox.new()
    assert who_got(mails) == {"coordinatrice": [triage]}
    (task,) = mails
    read(task)
    assert f"Une tâche vous attend dans le dispositif {CLS}" in task.text
    assert "Échéance : " in task.text and links_to(task, url + action_path)

    # The coordination takes it into co-construction with a working group.
    log_in(page, url, "coordinatrice")
    page.goto(action_url)
    page.select_option("#wg-start_co_construction", label=GROUP)
    page.click("button:has-text('Lancer la co-construction')")
    page.wait_for_selector("text=« Lancer la co-construction » : fait.")
    assert state(page) == "En co-construction"
    assert page.locator("dt:has-text('Groupe de travail') + dd").inner_text() == GROUP
    log_out(page)

    # The lead learns their proposal is taken up (the coordinator, who opened the next task
    # herself, is not mailed about it).
    mails = inbox.new()
    assert who_got(mails) == {"porteur.ccas": [f"Votre proposition : {TITLE}"]}
    (taken,) = [m for m in mails if m.to == [f"porteur.ccas@{DOMAIN}"]]
    read(taken)
    assert f"Votre proposition « {TITLE} » est prise en co-construction." in taken.text
    assert links_to(taken, url + action_path)

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
    assert inbox.new() == []  # completing a fiche tells nobody

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

    # Each COTECH member has their opinion to give; the COPIL members, the decision to take.
    opinion = f"À faire : Avis technique du COTECH — {fiche}"
    decision = f"À faire : Valider, demander des modifications ou rejeter — {fiche}"
    mails = inbox.new()
    assert who_got(mails) == {
        "cotech": [opinion],
        "porteur.epsm": [opinion],
        "elue": [decision],
        "copil.ars": [decision],
    }
    for mail in mails:
        read(mail)
        assert links_to(mail, url + action_path)

    give_opinion(page, url, "cotech", action_url, "Favorable", "Répond au diagnostic local.")
    give_opinion(page, url, "porteur.epsm", action_url, "Réservé", RESERVATION)
    assert inbox.new() == []  # the opinions are read on the fiche

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
    when = earlier_today()
    page.fill("#id_date", when)
    page.fill("#id_place", PLACE)
    page.click("button:has-text('Créer la séance')")
    page.wait_for_selector("text=Séance créée")
    meeting_url = page.url
    item = page.locator(".agenda-item", has_text=TITLE)
    assert "inscrite « Soumise au COPIL »" in item.inner_text()

    # The convocation: to the COPIL's members, the coordination and the leads of the fiches on
    # the agenda (here the CCAS's and the EPSM's), with the agenda, the place and time, and
    # the séance for their calendars.
    starts = datetime.datetime.strptime(when, "%Y-%m-%dT%H:%M").replace(tzinfo=PARIS)
    seance = f"Comité de pilotage (COPIL) du {starts:%d/%m/%Y}"
    meeting_path = urlsplit(meeting_url).path
    meeting_pk = re.search(r"/(\d+)/?$", meeting_path).group(1)
    mails = inbox.new()
    invitees = ("elue", "copil.ars", "coordinatrice", "porteur.ccas", "porteur.epsm")
    assert who_got(mails) == {person: [f"Convocation : {seance}"] for person in invitees}
    for mail in mails:
        read(mail)
        assert f"Vous êtes convoqué·e à la séance « {seance} » du {CLS}." in mail.text
        assert f"{starts:%d/%m/%Y %H:%M}" in mail.text and PLACE in mail.text
        assert "Ordre du jour :" in mail.text and TITLE in mail.text
        assert links_to(mail, url + meeting_path)
        assert list(mail.attachments) == ["seance.ics"]
        assert mail.content_types["seance.ics"] == "text/calendar"
        calendar = icalendar.Calendar.from_ical(mail.attachments["seance.ics"])
        assert str(calendar["method"]) == "REQUEST"
        (event,) = calendar.walk("VEVENT")
        assert str(event["uid"]) == f"seance-{meeting_pk}@coordo"
        assert event.decoded("dtstart") == starts.astimezone(datetime.UTC)
        assert str(event["location"]) == PLACE
        assert str(event["status"]) == "CONFIRMED"

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

    # Validated: the lead is told the COPIL's decision; the fiche waits for the coordination
    # (open its funding or start it).
    mails = inbox.new()
    assert who_got(mails) == {
        "porteur.ccas": [f"Décision du COPIL — « {TITLE} » : Validée"],
        "coordinatrice": [
            f"À faire : Ouvrir les financements ou démarrer la mise en œuvre — {fiche}"
        ],
    }
    for mail in mails:
        read(mail)
        assert links_to(mail, url + action_path)

    # The coordinator, an animator, drafts the minutes; she does not validate them.
    log_in(page, url, "coordinatrice")
    page.goto(meeting_url)
    page.fill("#id_minutes", MINUTES)
    page.click("button:has-text('Enregistrer le projet')")
    page.wait_for_selector("text=Projet de compte rendu enregistré")
    assert page.locator("button:has-text('Valider le compte rendu')").count() == 0
    log_out(page)
    assert inbox.new() == []  # a draft is not published

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

    # The invitees (and those present) are told the minutes are published.
    mails = inbox.new()
    assert who_got(mails) == {person: [f"Compte rendu validé : {seance}"] for person in invitees}
    for mail in mails:
        read(mail)
        assert f"Le compte rendu de la séance « {seance} » est validé" in mail.text
        assert links_to(mail, url + meeting_path + "compte-rendu/")

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

    # Nobody outside the programme heard of any of it, nor anyone twice of the same thing.
    people = who_got(inbox.journey + inbox.new())
    assert set(people) <= CLS_PEOPLE, people
    assert "copil.epsm" not in people
    for subjects in people.values():
        assert len(subjects) == len(set(subjects)), subjects


def test_resident_proposes_and_coordination_publishes(browser_page, demo_server, mailbox):
    page, url = browser_page, demo_server
    idea = "Un atelier vélo-santé pour les collégiens de Bois-Joli"
    resident = "habitante.bois-joli@example.org"

    log_in(page, url, "coordinatrice")
    open_programme(page)
    page.click("a[href$='/propositions-habitants/']")
    public_url = page.locator(".public-link a").get_attribute("href")
    log_out(page)

    # A resident, without an account, on the public page.
    inbox = Inbox(mailbox)
    page.goto(url + public_url)
    assert "Pas besoin de compte" in page.locator("body").inner_text()
    page.fill("#id_idea", idea)
    page.fill("#id_need", "Les jeunes du quartier bougent peu et n'ont pas de vélo en état.")
    page.fill("#id_neighbourhood", "Bois-Joli")
    page.fill("#id_contact_email", resident)
    page.check("#id_contact_consent")
    time.sleep(3.5)  # a person reads the form first: a post within 3 s is refused
    page.click("button:has-text('Envoyer ma proposition')")
    page.wait_for_selector("text=Merci, votre proposition a bien été reçue")
    # The coordination is told there is an idea to moderate.
    assert who_got(inbox.new()) == {
        "coordinatrice": [f"À faire : modérer une proposition d'habitant — {CLS}"]
    }

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

    # The resident, who left a contact, learns what became of their idea (the new fiche's
    # triage is the coordinator's own doing: no mail to her).
    mails = inbox.new()
    assert who_got(mails) == {resident: [f"Votre proposition au {CLS}"]}
    (answer,) = [m for m in mails if m.to == [resident]]
    read(answer)
    assert (
        f"Votre proposition « {idea} » a été reprise par la coordination dans la fiche action "
        f"« {idea} »." in answer.text
    )
    card.locator("a", has_text=idea).click()
    assert page.locator("h1").inner_text() == idea
    assert state(page) == "Proposée"
    assert "proposition d'habitant·es" in page.locator("p:has(> .state)").inner_text()
