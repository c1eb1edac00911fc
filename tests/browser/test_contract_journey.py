"""« A CLS from nothing to an amended contract », in a real browser on the demo server: the
coordinator — no admin access, Coordo's pages only — creates a new CLS and sets it up (identity,
the places of its territory, an axis and its objectives, a working group and its members, the
COPIL, the signatory organisations and who signs for each, one of them a person invited by
e-mail who chooses her password from the link she receives); the COPIL sends the contract for
signature; three organisations each find their task and open it at the same time, then sign in
another order than they were named (each on a page opened before the others signed), and it
enters into force by itself; then an amendment (one more year, one more signatory) is prepared,
approved by the COPIL, signed by the four and applied; the audit trail the ARS receives shows
every step.

Each person has their own browser context. The journey creates its own programme,
organisation and people: the demo's other programmes are left as the other browser tests expect
them. ``journey(…, shot=…)`` lets a script take screenshots of the pages it goes through.
"""

import csv
import io
import re
from pathlib import Path
from urllib.parse import urlsplit

DEMO_PASSWORD = "coordo-demo"
CHANGES = "Modifications (champ : avant → après)"  # a column of the trail
DOMAIN = "val-de-lys.example"

CLS = "CLS de la Haute-Lys 2026-2030"
TERRITORY = "Communauté de communes de la Haute-Lys"
COMMUNES = "Aire-sur-la-Lys, Saint-Venant, Thérouanne"
EPCI = "CC de la Haute-Lys"
QPV = "Quartier des Tilleuls (Aire-sur-la-Lys)"
AXIS = "Accès aux soins de premier recours"
GOAL = "Enrayer la baisse de la démographie médicale"
STEP = "Ouvrir une maison de santé pluriprofessionnelle à Saint-Venant"
GROUP = "Démographie médicale"

ARS = "ARS — Délégation départementale"
PREFECTURE = "Préfecture — politique de la ville"
COMMUNE = "Commune d'Aire-sur-la-Lys"
DEPARTEMENT = "Département — conférence des financeurs"
# The new people, invited by e-mail (no account yet).
MAYOR = ("maire@aire-sur-la-lys.example", "Hélène", "Vasseur")
DOCTOR = ("dr.caron@haute-lys.example", "Louis", "Caron")
MAYOR_PASSWORD = "Lys-Aire-2026-signature"

AMENDMENT = "Prolongation d'un an et entrée du Département"
SIGNED_PDF = b"%PDF-1.4\n% Contrat signe pour la commune\n%%EOF\n"


def no_screenshot(page, name: str) -> None:
    """Where the journey shows a page worth a look (a script may take screenshots there)."""


# --- helpers -------------------------------------------------------------------------------------


def log_in(page, url, username, password=DEMO_PASSWORD):
    page.goto(url + "/comptes/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/coordo/")


def log_out(page):
    page.click("button:has-text('Se déconnecter')")
    page.wait_for_selector("#id_username")


def done(page, text: str) -> None:
    """The page's success message."""
    page.wait_for_selector(f".messages :text({text!r})")


def open_programme(page):
    page.click(f"h2 a:has-text({CLS!r})")
    page.wait_for_selector(f"h1:has-text({CLS!r})")


def status(page) -> str:
    """« Contrat local de santé (CLS) · En rédaction » → « En rédaction »."""
    return page.locator("h1 + p.muted").inner_text().split(" · ")[-1]


def contract_card(page):
    """The programme page's contract card, opened."""
    card = page.locator("details:has(summary:has-text('Le contrat (état'))")
    if card.get_attribute("open") is None:
        card.locator("summary").click()
    return card


def setup_section(page, name: str) -> None:
    page.locator("nav.setup-nav").get_by_role("link", name=name, exact=True).click()


def invite(page, email, role, *, organisation=None, first="", last=""):
    """The members page's invitation form (opened from a link that prefills it, or not)."""
    form = page.locator("#invite")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    form.locator("#id_email").fill(email)
    form.locator("#id_first_name").fill(first)
    form.locator("#id_last_name").fill(last)
    form.locator("#id_role").select_option(label=role)
    if organisation:
        form.locator("#id_organisation").select_option(label=organisation)
    form.locator("button:has-text('Inviter')").click()


def signatures(page) -> dict[str, str]:
    """The signing page's table: organisation → state."""
    rows = page.locator("table tbody tr")
    return {
        rows.nth(i).locator("td").nth(0).inner_text(): rows.nth(i).locator("td").nth(2).inner_text()
        for i in range(rows.count())
    }


class People:
    """Each person in their own browser (context), logged in once: the coordinator in the
    test's page, the others as the journey needs them."""

    def __init__(self, page, url):
        self.url, self.pages = url, {"coordinatrice": page}
        log_in(page, url, "coordinatrice")

    def log_in(self, username: str, password: str = DEMO_PASSWORD):
        first = self.pages["coordinatrice"]
        page = first.context.browser.new_context(locale="fr-FR").new_page()
        page.set_default_timeout(15000)
        log_in(page, self.url, username, password)
        self.pages[username] = page
        return page

    def close(self):
        for username, page in self.pages.items():
            if username != "coordinatrice":
                page.context.close()


def open_signature(page, organisation: str) -> None:
    """The signatory finds the signature in « Mes tâches » and opens its page, where they sign
    for their own organisation only."""
    page.get_by_role("link", name="Mes tâches").first.click()
    task = page.locator("table.tasks tr", has_text=f"Signer — {organisation}")
    assert CLS in task.inner_text()
    task.get_by_role("link", name=f"Signer — {organisation}").click()
    page.wait_for_selector("h1:has-text('Signatures — ')")
    mine = page.locator("section h2:has-text('Signer pour')")
    assert mine.all_inner_texts() == [f"Signer pour {organisation}"]


def sign(page, organisation: str, copy: bytes | None = None) -> dict[str, str]:
    """Sign for the organisation from the page opened (with the signed copy, if any): the
    round's states afterwards."""
    if copy:
        page.set_input_files(
            "#id_signed_copy",
            files=[{"name": "contrat-signe.pdf", "mimeType": "application/pdf", "buffer": copy}],
        )
    page.click("section button:has-text('Signer')")
    done(page, f"Signé pour {organisation}.")
    return signatures(page)


def trail(page, url, programme_path) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The audit trail as the coordination exports it for the ARS (CSV): its header and its
    rows, each a dict by column."""
    page.goto(url + programme_path)
    page.click('a:has-text("Journal d\'audit (export)")')
    with page.expect_download() as download:
        page.click("button:has-text('Télécharger (CSV)')")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    start = next(i for i, line in enumerate(lines) if line[:1] == ["N°"])
    header = {line[0]: line[1] for line in lines[:start] if len(line) >= 2}
    return header, [dict(zip(lines[start], line, strict=True)) for line in lines[start + 1 :]]


def events(rows, event: str, **where) -> list[dict[str, str]]:
    return [
        r
        for r in rows
        if r["Événement"] == event and all(text in r[column] for column, text in where.items())
    ]


# --- the journey -------------------------------------------------------------------------------


def journey(page, url, mailbox, shot=no_screenshot):
    people = People(page, url)
    try:
        _journey(people, page, url, mailbox, shot)
    finally:
        people.close()


def _journey(people, page, url, mailbox, shot):
    mark = mailbox.mark()

    # A coordinator (of the demo's CLS: she may create another) creates the new CLS.
    page.click("a:has-text('Nouveau dispositif')")
    page.wait_for_selector("h1:has-text('Nouveau dispositif')")
    shot(page, "programme-create")
    page.select_option("#id_kind", label="Contrat local de santé (CLS)")
    page.fill("#id_name", CLS)
    page.fill("#id_territory", TERRITORY)
    page.fill("#id_start_date", "2026-01-01")
    page.fill("#id_end_date", "2030-12-31")
    page.click("button:has-text('Créer le dispositif')")
    done(page, "Le dispositif est créé et vous en êtes la coordination")
    assert page.locator("h1").inner_text() == "Mise en place du dispositif"
    programme_path = urlsplit(page.locator(f"a:has-text('← {CLS}')").get_attribute("href")).path
    assert "En rédaction" in page.locator("h1 + p.muted").inner_text()

    # Identity and territory: its places (EPCI, communes, QPV) on their own page, which the
    # identity page links to.
    setup_section(page, "Identité et territoire")
    assert page.locator("#id_territory").input_value() == TERRITORY
    shot(page, "setup-identity")
    page.locator("p > a", has_text="Communes, EPCI et QPV").click()
    page.wait_for_selector("h1:has-text('Communes, EPCI et quartiers prioritaires')")
    places = [("EPCI / intercommunalité", EPCI), ("Quartier prioritaire (QPV)", QPV)]
    places += [("Commune", commune) for commune in COMMUNES.split(", ")]
    for kind, name in places:
        page.select_option("#id_kind", label=kind)
        page.fill("#id_name", name)
        page.click("form button:has-text('Ajouter')")
        done(page, "Lieu ajouté au territoire.")
    shot(page, "setup-places")
    setup_section(page, "Vue d'ensemble")
    facts = page.locator("dl.setup-facts").inner_text()
    for value in (TERRITORY, COMMUNES, EPCI, QPV, "01/01/2026 – 31/12/2030"):
        assert value in facts

    # An axis, its general objective and an operational one under it.
    setup_section(page, "Axes et objectifs")
    page.fill("#id_title", AXIS)
    page.click('button:has-text("Ajouter l\'axe")')
    done(page, "Axe 1 ajouté.")
    axis = page.locator("section.card", has=page.locator(f"h2:has-text('Axe 1 — {AXIS}')"))
    for level, title in (("Général", GOAL), ("Opérationnel", STEP)):
        axis.locator("summary:has-text('Ajouter un objectif à cet axe')").click()
        axis.locator("select[name=level]").last.select_option(label=level)
        axis.locator("input[name=title][id^=new-title]").fill(title)
        if title == STEP:
            axis.locator("select[name=parent]").select_option(label=GOAL)
        axis.locator('button:has-text("Ajouter l\'objectif")').click()
        done(page, "Objectif ajouté.")
    objectives = axis.locator("ol.objectives").inner_text()
    assert GOAL in objectives and f"sous « {GOAL} »" in objectives
    shot(page, "setup-axes")

    # A working group; a doctor with no account yet is invited into it.
    setup_section(page, "Groupes de travail")
    page.fill("#id_name", GROUP)
    page.fill("#id_description", "Installer et garder des soignants sur le territoire.")
    page.click("button:has-text('Créer le groupe')")
    done(page, "Groupe de travail créé.")
    page.click('a:has-text("Inviter une personne qui n\'a pas encore de compte")')
    assert page.locator("#id_working_group option:checked").inner_text() == GROUP
    invite(page, DOCTOR[0], "Membre d'un groupe de travail", first=DOCTOR[1], last=DOCTOR[2])
    done(page, "Louis Caron a le rôle « Membre d'un groupe de travail » : un lien pour choisir")

    # The COPIL: the demo's elected member, who has an account already.
    invite(page, f"elue@{DOMAIN}", "Comité de pilotage (COPIL)")
    done(page, "Nadia Benali a désormais le rôle « Comité de pilotage (COPIL) ».")

    # The coordinator joins the group too.
    setup_section(page, "Groupes de travail")
    group = page.locator("section.card", has=page.locator(f"h2:has-text('{GROUP}')"))
    group.locator("select[name=user]").select_option(label="Camille Martin (coordinatrice)")
    group.locator("button:has-text('Ajouter au groupe')").click()
    done(page, "Membre ajouté au groupe.")
    assert "2 membres" in group.locator("h3").inner_text()
    assert "Louis Caron" in group.inner_text() and "Camille Martin" in group.inner_text()
    shot(page, "setup-groups")

    # The signatories: two known organisations, then the commune, not yet known to Coordo.
    setup_section(page, "Signataires")
    page.get_by_label(ARS).check()
    page.get_by_label(PREFECTURE).check()
    page.click("button:has-text('Enregistrer les signataires')")
    done(page, "Signataires du contrat enregistrés.")
    setup_section(page, "Signataires")
    page.click("summary:has-text(\"L'organisation n'est pas dans la liste ? L'ajouter\")")
    page.fill("#org-name", COMMUNE)
    page.select_option("#org-kind", label="Commune")
    page.click('button:has-text("Ajouter l\'organisation")')
    done(page, "Organisation ajoutée : cochez-la si elle signe le contrat.")
    page.get_by_label(COMMUNE).check()
    page.click("button:has-text('Enregistrer les signataires')")
    done(page, "Signataires du contrat enregistrés.")
    names = page.locator("section.card:has(h2:has-text('Signataires du contrat')) li")
    assert names.all_inner_texts() == [ARS, COMMUNE, PREFECTURE]

    # Who signs for each: the demo's signatories of the ARS and the préfecture (their accounts
    # exist), and the mayor, invited by e-mail.
    setup_section(page, "Signataires")
    for (email, first, last), organisation in (
        ((f"signataire.ars@{DOMAIN}", "", ""), ARS),
        ((f"signataire.prefecture@{DOMAIN}", "", ""), PREFECTURE),
        (MAYOR, COMMUNE),
    ):
        page.click("a:has-text('Inviter une personne avec le rôle « Signataire du contrat »')")
        assert page.locator("#id_role option:checked").inner_text() == "Signataire du contrat"
        invite(
            page, email, "Signataire du contrat", organisation=organisation, first=first, last=last
        )
        done(page, "a le rôle « Signataire du contrat »" if first else "a désormais le rôle")
        setup_section(page, "Signataires")
    who = page.locator("section.card:has(h2:has-text('Qui signe pour chaque organisation')) li")
    assert who.all_inner_texts() == [
        f"{ARS} : Véronique Dumas",
        f"{COMMUNE} : Hélène Vasseur",
        f"{PREFECTURE} : Olivier Brun",
    ]
    shot(page, "setup-signatories")
    setup_section(page, "Membres")
    members = page.locator("table.members tbody").inner_text()
    assert members.count("invitation en attente") == 2  # the doctor and the mayor
    shot(page, "setup-members")
    setup_section(page, "Vue d'ensemble")
    hub = page.locator("section.card:has(h2:has-text('Membres'))").inner_text()
    assert "7 appartenances actives" in hub
    shot(page, "setup-hub")

    # The programme page: its territory, and the contract, still to be signed. The
    # coordinator prepares; sending it for signature is the COPIL's decision.
    page.click(f"a:has-text('← {CLS}')")
    territory = page.locator("dl.territory").inner_text()
    assert EPCI in territory and COMMUNES in territory and QPV in territory
    card = contract_card(page)
    assert "Le contrat (état : En rédaction)" in card.inner_text()
    assert f"Signataires : {ARS}, {COMMUNE}, {PREFECTURE}" in card.inner_text()
    assert page.locator("button:has-text('Envoyer en signature')").count() == 0

    # Only the two people without an account were sent an invitation, each with their link.
    invitations = {m.to[0]: m for m in mailbox.since(mark) if m.subject.startswith("Invitation")}
    assert sorted(invitations) == sorted([DOCTOR[0], MAYOR[0]])
    mail = invitations[MAYOR[0]]
    assert mail.subject == f"Invitation à rejoindre « {CLS} » sur Coordo"
    assert "Camille Martin vous invite" in mail.text and "Signataire du contrat" in mail.text
    link = re.search(rf"{re.escape(url)}/comptes/reset/\S+", mail.text).group()
    username = re.search(r"Votre identifiant de connexion : (\S+)", mail.text).group(1)

    # The mayor chooses her password from the link, and logs in: the new CLS is hers to see.
    mayor = page.context.browser.new_context(locale="fr-FR").new_page()
    mayor.goto(link)
    mayor.wait_for_selector("h1:has-text('Choisir votre mot de passe')")
    mayor.fill("#id_new_password1", MAYOR_PASSWORD)
    mayor.fill("#id_new_password2", MAYOR_PASSWORD)
    mayor.click("button:has-text('Enregistrer mon mot de passe')")
    mayor.wait_for_selector("h1:has-text('Mot de passe enregistré')")
    mayor.context.close()
    mayor = people.log_in(username, MAYOR_PASSWORD)
    assert mayor.locator(f"h2 a:has-text({CLS!r})").count() == 1

    # The COPIL sends the contract for signature.
    elue = people.log_in("elue")
    open_programme(elue)
    elue.click("summary:has-text('Cycle de vie du dispositif')")
    mark = mailbox.mark()
    elue.click("button:has-text('Envoyer en signature')")
    done(elue, "« Envoyer en signature » : fait.")
    assert status(elue) == "En attente de signatures"
    card = contract_card(elue)
    assert "Signatures du contrat : En cours" in card.inner_text()
    card.get_by_role("link", name="Signatures du contrat").click()
    signing_url = elue.url
    assert signatures(elue) == {ARS: "À signer", COMMUNE: "À signer", PREFECTURE: "À signer"}
    assert elue.locator("section h2:has-text('Signer pour')").count() == 0  # not a signatory

    # Three tasks, open together: each organisation's signatory is told at once.
    tasks = {m.to[0]: m.subject for m in mailbox.since(mark) if m.subject.startswith("À faire")}

    def subject(organisation: str) -> str:  # whoever signs for two knows which is which
        return f"À faire : Signer — {organisation} — contrat du {CLS}"

    assert tasks == {
        f"signataire.ars@{DOMAIN}": subject(ARS),
        f"signataire.prefecture@{DOMAIN}": subject(PREFECTURE),
        MAYOR[0]: subject(COMMUNE),
    }, tasks

    # Each has the task in their inbox at once and opens it; then they sign in their own
    # order, not the one they were named in — the commune with the signed copy.
    signers = {
        ARS: people.log_in("signataire.ars"),
        PREFECTURE: people.log_in("signataire.prefecture"),
        COMMUNE: mayor,
    }
    for organisation, signer in signers.items():
        open_signature(signer, organisation)
    shot(mayor, "signing-to-sign")
    after = sign(signers[COMMUNE], COMMUNE, copy=SIGNED_PDF)
    assert after == {ARS: "À signer", COMMUNE: "Signé", PREFECTURE: "À signer"}
    after = sign(signers[PREFECTURE], PREFECTURE)
    assert after == {ARS: "À signer", COMMUNE: "Signé", PREFECTURE: "Signé"}
    after = sign(signers[ARS], ARS)
    assert after == {ARS: "Signé", COMMUNE: "Signé", PREFECTURE: "Signé"}

    # The last signature puts the contract into force, by itself.
    page.goto(signing_url)
    assert "Signé par tous" in page.locator("h1 + p.muted").inner_text()
    commune = page.locator("table tbody tr", has_text=COMMUNE)
    assert "Hélène Vasseur" in commune.inner_text()
    with page.expect_download() as download:
        commune.get_by_role("link", name="télécharger").click()
    assert Path(download.value.path()).read_bytes() == SIGNED_PDF
    shot(page, "signing")
    page.goto(url + programme_path)
    assert status(page) == "En vigueur"
    card = contract_card(page)
    assert "Le contrat (état : En vigueur)" in card.inner_text()
    assert "Signatures du contrat : Signé par tous" in card.inner_text()

    # An amendment: one more year, and the Département joins (its signatory is named first).
    page.goto(url + programme_path)
    page.click("a:has-text('Mise en place du dispositif')")
    setup_section(page, "Membres")
    invite(
        page, f"signataire.departement@{DOMAIN}", "Signataire du contrat", organisation=DEPARTEMENT
    )
    done(page, "Agnès Roy a désormais le rôle « Signataire du contrat ».")
    page.goto(url + programme_path)
    contract_card(page).get_by_role("link", name="0 avenant").click()
    page.wait_for_selector("h1:has-text('Avenants au contrat')")
    page.fill("#id_title", AMENDMENT)
    page.fill(
        "#id_summary",
        "Le contrat est prolongé jusqu'au 31/12/2031 ; le Département le rejoint pour l'axe 1.",
    )
    page.fill("#id_new_end_date", "2031-12-31")
    page.get_by_role("group", name="Nouveaux signataires").get_by_label(DEPARTEMENT).check()
    shot(page, "amendments")
    page.click('button:has-text("Créer l\'avenant")')
    done(page, "Avenant créé : complétez-le puis soumettez-le.")
    assert page.locator("h1").inner_text() == f"Avenant n° 1 — {AMENDMENT}"
    amendment_url = page.url
    assert page.locator("h1 + p .state").inner_text() == "En préparation"
    shot(page, "amendment")
    page.click('button:has-text("Soumettre l\'avenant au COPIL")')
    done(page, "« Soumettre l'avenant au COPIL » : fait.")
    assert page.locator("h1 + p .state").inner_text() == "Soumis au COPIL"
    assert page.locator('button:has-text("Approuver l\'avenant")').count() == 0

    # The COPIL approves it: the round of signatures opens, the Département's included.
    elue.goto(amendment_url)
    elue.fill("#c-approve", "Approuvé en séance du COPIL.")
    elue.click("button:has-text(\"Approuver l'avenant et l'envoyer en signature\")")
    done(elue, "« Approuver l'avenant et l'envoyer en signature » : fait.")
    assert elue.locator("h1 + p .state").inner_text() == "En attente de signatures"
    dates = elue.locator("dl.fiche").inner_text()
    assert "31/12/2031" in dates and DEPARTEMENT in dates

    # Four signatures, in parallel again: all four open it, then sign in any order.
    signers[DEPARTEMENT] = people.log_in("signataire.departement")
    for organisation in (PREFECTURE, COMMUNE, ARS, DEPARTEMENT):
        open_signature(signers[organisation], organisation)
    for organisation in (DEPARTEMENT, ARS, COMMUNE, PREFECTURE):
        after = sign(signers[organisation], organisation)
    assert after == dict.fromkeys((ARS, COMMUNE, DEPARTEMENT, PREFECTURE), "Signé")

    # In force: the programme page shows the contract as amended.
    page.goto(amendment_url)
    assert page.locator("h1 + p .state").inner_text() == "En vigueur"
    page.goto(url + programme_path)
    assert status(page) == "En vigueur"
    card = contract_card(page)
    text = card.inner_text()
    assert f"Signataires : {ARS}, {COMMUNE}, {DEPARTEMENT}, {PREFECTURE}" in text
    assert "du 01/01/2026 au 31/12/2031" in text
    assert f"Modifié par l'avenant n° 1 — {AMENDMENT}" in text
    shot(page, "programme")

    # The trail the ARS receives: every step, with who did it.
    header, rows = trail(page, url, programme_path)
    assert header["Chaîne d'empreintes vérifiée intacte"] == "oui"
    coordinator = "Camille Martin"
    created = events(rows, "Ajout au dispositif", **{"Type d'objet": "dispositif"})
    assert created and coordinator in created[0]["Auteur"]
    assert events(rows, "Ajout au dispositif", Commentaire="Créateur du dispositif")
    assert events(rows, "Ajout au dispositif", **{"Type d'objet": "lieu", "Objet": QPV})
    assert events(
        rows, "Modification du dispositif", **{CHANGES: f"→ {ARS}, {COMMUNE}, {PREFECTURE}"}
    )
    for kind, name in (
        ("axe stratégique", AXIS),
        ("objectif", GOAL),
        ("objectif", STEP),
        ("groupe de travail", GROUP),
    ):
        assert events(rows, "Ajout au dispositif", **{"Type d'objet": kind, "Objet": name}), name
    assert len(events(rows, "Ajout au dispositif", Commentaire="(compte créé)")) == 2
    assert len(events(rows, "Ajout au dispositif", Commentaire="(compte existant)")) == 4
    assert events(rows, "Ajout au dispositif", Objet=COMMUNE)
    sent = events(rows, "Envoyer en signature")
    assert len(sent) == 1 and "Nadia Benali" in sent[0]["Auteur"]
    assert sent[0]["État : avant → après"] == "En rédaction → En attente de signatures"
    signed = events(rows, "Signature")
    assert [
        (re.search(r"organisation : ∅ → (.+?)(?: \| |$)", s[CHANGES]).group(1), s["Objet"])
        for s in signed
    ] == [
        (COMMUNE, f"Contrat — {CLS}"),
        (PREFECTURE, f"Contrat — {CLS}"),
        (ARS, f"Contrat — {CLS}"),
        (DEPARTEMENT, f"Avenant n° 1 — {AMENDMENT}"),
        (ARS, f"Avenant n° 1 — {AMENDMENT}"),
        (COMMUNE, f"Avenant n° 1 — {AMENDMENT}"),
        (PREFECTURE, f"Avenant n° 1 — {AMENDMENT}"),
    ]
    assert "Hélène Vasseur" in signed[0]["Auteur"]
    assert "empreinte de la copie signée (SHA-256)" in signed[0][CHANGES]
    (in_force,) = events(rows, "Entrée en vigueur")
    assert in_force["État : avant → après"] == "En attente de signatures → En vigueur"
    assert "Véronique Dumas" in in_force["Auteur"]  # the last signature, in her name
    for step in (
        "Avenant créé",
        "Soumettre l'avenant au COPIL",
        "Approuver l'avenant et l'envoyer en signature",
        "Entrée en vigueur de l'avenant",
    ):
        assert len(events(rows, step)) == 1, step
    (applied,) = events(rows, "Avenant appliqué au contrat")
    assert "31/12/2030 → 31/12/2031" in applied[CHANGES]
    assert DEPARTEMENT in applied[CHANGES]
    seq = [int(r["N°"]) for r in rows]
    assert seq == sorted(seq)
    log_out(page)


def test_coordinator_sets_up_a_cls_signed_in_parallel_and_amended(
    browser_page, demo_server, mailbox
):
    journey(browser_page, demo_server, mailbox)
