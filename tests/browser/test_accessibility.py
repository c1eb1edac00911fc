"""Accessible to everyone (RGAA, built on WCAG 2.1 AA): axe-core, run in a real browser on the
main pages (on a computer's screen and on a phone's), finds no serious or critical violation;
and a fiche can be proposed with the keyboard only.

axe-core is the npm package pinned by package.json / package-lock.json at the project's root,
installed (``npm ci``) when missing — by ``./dev.sh test`` and, failing that, here."""

import shutil
import subprocess

import pytest

from .conftest import CHROMIUM, ROOT
from .test_copil_journey import log_in

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# What RGAA 4 checks is WCAG 2.1 A and AA; axe's best practices are run too, and only the
# serious and critical findings fail the test.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING = {"serious", "critical"}
RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
  });
  return {
    passes: results.passes.length,
    violations: results.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
      nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
    })),
  };
}"""


@pytest.fixture(scope="session")
def axe_script() -> str:
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                "axe-core manque et npm n'est pas installé : installez Node.js et npm "
                "(apt-get install -y npm), puis lancez `npm ci` à la racine du projet."
            )
        subprocess.run([npm, "ci", "--silent", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def axe_page(demo_server):
    """A browser page where axe's script may be added (the site's Content-Security-Policy
    allows scripts of its own origin only; its own test checks it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(locale="fr-FR", bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            browser.close()


def _violations(page, axe_script) -> list[dict]:
    page.add_script_tag(content=axe_script)
    results = page.evaluate(RUN_AXE, TAGS)
    assert results["passes"] > 20, f"axe n'a presque rien vérifié sur {page.url}"
    return [v for v in results["violations"] if v["impact"] in FAILING]


def _readable(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where} — {v['impact']} — {v['id']} : {v['help']} ({v['url']})")
            for node in v["nodes"][:6]:
                summary = " ".join(node["summary"].split())[:300]
                lines.append(f"    {node['target']}\n        {summary}")
            if len(v["nodes"]) > 6:
                lines.append(f"    … et {len(v['nodes']) - 6} autres éléments")
    return "\n".join(lines)


def _main_pages(page, url) -> dict[str, str]:
    """The main pages of the demo's CLS, found through the links a user follows."""
    page.goto(url + "/coordo/")
    page.click("h2 a:has-text('CLS Val-de-Lys 2024-2028')")
    programme = page.url.removeprefix(url)
    fiches = {}
    for state in ("draft", "co_construction", "copil_review", "implementation"):
        page.goto(f"{url}{programme}?etat={state}")
        fiches[state] = page.locator("td a[href^='/coordo/actions/']").first.get_attribute("href")
    page.goto(f"{url}{programme}seances/")
    meeting = page.locator("td a[href*='/coordo/seances/']").first.get_attribute("href")
    page.goto(f"{url}{programme}financements/")
    request = page.locator("td a[href*='/coordo/financements/']").first.get_attribute("href")
    page.goto(url + "/coordo/")
    page.click("h2 a:has-text('CLSM Val-de-Lys')")
    clsm = page.url.removeprefix(url)
    return {
        "accueil": "/coordo/",
        "liste des fiches": programme,
        "fiche proposée": fiches["draft"],
        "fiche en co-construction": fiches["co_construction"],
        "fiche soumise au COPIL": fiches["copil_review"],
        "fiche en mise en œuvre": fiches["implementation"],
        "séances": f"{programme}seances/",
        "séance": meeting,
        "financements": f"{programme}financements/",
        "demande de financement": request,
        "tableau de bord": f"{programme}tableau-de-bord/",
        "proposer une fiche": f"{programme}proposer/",
        "page publique": programme.replace("/coordo/", "/public/"),
        "rapport annuel": f"{programme}rapport/",
        "diagnostic et démarches": f"{programme}diagnostic/",
        "territoire": f"{programme}territoire/",
        "travaux du CLSM": f"{clsm}clsm/",
    }


@pytest.mark.parametrize("username", ["coordinatrice", "elue"])
def test_main_pages_have_no_serious_violation(axe_page, demo_server, axe_script, username):
    page, url = axe_page, demo_server
    found = {}
    page.goto(url + "/comptes/login/")
    found["connexion"] = _violations(page, axe_script)
    log_in(page, url, username)
    pages = _main_pages(page, url)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        for name, path in pages.items():
            response = page.goto(url + path)
            assert response.status == 200, name
            found[f"{name} ({width} px)"] = _violations(page, axe_script)
    found = {where: v for where, v in found.items() if v}
    assert not found, "Violations graves d'accessibilité :\n" + _readable(found)


def _tab_to(page, description: str, matches: str, *, backwards=False, limit=80):
    """Presses Tab (or Shift+Tab) until the focused element matches (a JavaScript predicate
    on ``el``): the keyboard's way of reaching it."""
    key = "Shift+Tab" if backwards else "Tab"
    focused = f"() => {{ const el = document.activeElement; return !!el && ({matches}); }}"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(focused):
            return
    pytest.fail(f"{description} : jamais atteint au clavier ({limit} × {key})")


TITLE = "Marche santé du dimanche au bord de la Lys"
OBJECTIVE = "Développer l'éducation à la santé dès l'enfance"


def test_a_fiche_is_proposed_with_the_keyboard_only(axe_page, demo_server):
    page, url = axe_page, demo_server
    log_in(page, url, "coordinatrice")
    with page.expect_navigation():  # (the login and this: the mouse)
        page.click("h2 a:has-text('CLS Val-de-Lys 2024-2028')")
    page.wait_for_load_state("load")
    programme = page.url

    # From here on, only keys. The first stop is the link that skips the menus.
    page.keyboard.press("Tab")
    page.wait_for_function(
        "() => document.activeElement.textContent.trim() === 'Aller au contenu'", timeout=5000
    )
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'contenu'", timeout=5000)
    _tab_to(page, "« Proposer une action »", "el.textContent.trim() === 'Proposer une action'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/proposer/")
    _tab_to(page, "le titre", "el.id === 'id_title'")
    page.keyboard.type(TITLE)
    _tab_to(page, "l'objectif", "el.id === 'id_objective'")
    # A closed list's option is chosen with the arrow keys.
    for _ in range(30):
        page.keyboard.press("ArrowDown")
        if OBJECTIVE in page.evaluate("() => document.activeElement.selectedOptions[0].text"):
            break
    else:
        pytest.fail(f"l'objectif « {OBJECTIVE} » n'est pas atteint avec les flèches")
    _tab_to(page, "le public visé", "el.id === 'id_target_public'")
    page.keyboard.type("Familles du quartier des Hauts-Prés")
    # Back up one field and forward again: Shift+Tab works too.
    _tab_to(page, "l'objectif, en arrière", "el.id === 'id_objective'", backwards=True)
    _tab_to(page, "le bouton Enregistrer", "el.textContent.trim() === 'Enregistrer'")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.wait_for_selector("text=La fiche action est proposée")
    assert page.locator("h1").inner_text() == TITLE
    # The fiche exists: listed on its programme's page.
    page.goto(programme + "?q=" + "Marche santé")
    assert page.locator("td a", has_text=TITLE).count() == 1
