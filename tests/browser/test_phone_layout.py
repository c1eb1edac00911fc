"""On a 390 × 844 phone (elected officials read Coordo there), every main page fits the screen:
no sideways scrolling of the page, the drawer folded away, the toolbar within the width, amounts
on one line, and the fiche's decision button within reach. Real browser, demo data."""

import pytest

from .test_copil_journey import log_in, log_out

PHONE = {"width": 390, "height": 844}

# Each page's width as the browser laid it out, against the screen's.
WIDTHS = "[document.documentElement.scrollWidth, window.innerWidth]"
# The amounts (cells of numbers) laid out on more than one line.
WRAPPED_AMOUNTS = """() => [...document.querySelectorAll('.coordo td.num, .coordo th.num')]
  .filter((cell) => /€/.test(cell.textContent) && cell.offsetParent !== null)
  .filter((cell) => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1;
  })
  .map((cell) => cell.textContent.trim())"""


def _pages(page, url) -> dict[str, str]:
    """The CLS's main pages (and the CLSM's own), found as a user finds them (the links of
    the pages)."""
    page.click("h2 a:has-text('CLS Val-de-Lys 2024-2028')")
    programme = page.url.removeprefix(url)
    page.goto(f"{url}{programme}seances/")
    meeting = page.locator("td a[href*='/coordo/seances/']").first.get_attribute("href")
    page.goto(url + "/coordo/")
    page.click("h2 a:has-text('CLSM Val-de-Lys')")
    clsm = page.url.removeprefix(url)
    return {
        "accueil": "/coordo/",
        "fiches du dispositif": programme,
        "séances": f"{programme}seances/",
        "séance": meeting,
        "financements": f"{programme}financements/",
        "tableau de bord": f"{programme}tableau-de-bord/",
        "proposer une fiche": f"{programme}proposer/",
        "territoire": f"{programme}territoire/",
        "rapport annuel": f"{programme}rapport/",  # this year's
        "travaux du CLSM": f"{clsm}clsm/",
        "rapport annuel du CLSM": f"{clsm}rapport/",
    }


def _fiche(page, url, programme: str, state: str) -> str:
    page.goto(f"{url}{programme}?etat={state}")
    return page.locator("td a[href^='/coordo/actions/']").first.get_attribute("href")


def _assert_fits(page, name):
    scroll_width, inner_width = page.evaluate(WIDTHS)
    assert scroll_width <= inner_width, f"{name} : la page fait {scroll_width} px de large"
    # The toolbar's links and buttons within the screen (viewflow sets its bar 1 px to the left).
    toolbar = page.locator(".vf-page__body-toolbar").bounding_box()
    assert toolbar["x"] + toolbar["width"] <= PHONE["width"], name
    for item in page.locator(".vf-page__body-toolbar a, .vf-page__body-toolbar button").all():
        box = item.bounding_box()
        if box:  # shown
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], name
    assert page.evaluate(WRAPPED_AMOUNTS) == [], f"{name} : montant coupé"


@pytest.mark.parametrize(
    ("username", "state", "decision"),
    [
        ("coordinatrice", "draft", "Lancer la co-construction"),
        ("elue", "copil_review", "Valider"),
    ],
)
def test_every_main_page_fits_a_phone(browser_page, demo_server, username, state, decision):
    page, url = browser_page, demo_server
    page.set_viewport_size(PHONE)
    log_in(page, url, username)
    # The drawer is folded away: only the menu button shows, and it opens the menu over the page.
    drawer = page.locator(".vf-page__menu")
    assert (
        not drawer.is_visible() or drawer.bounding_box()["x"] + drawer.bounding_box()["width"] <= 0
    )
    page.click("button.mdc-top-app-bar__navigation-icon")
    page.wait_for_function(
        "() => document.querySelector('.vf-page__menu').getBoundingClientRect().left >= 0"
    )
    page.keyboard.press("Escape")

    pages = _pages(page, url)
    pages["fiche"] = _fiche(page, url, pages["fiches du dispositif"], state)
    for name, path in pages.items():
        response = page.goto(url + path)
        assert response.status == 200, name
        page.wait_for_load_state("load")
        _assert_fits(page, name)

    # On the fiche, the decision is at hand: on screen once scrolled to, clickable, in the width.
    page.goto(url + pages["fiche"])
    button = page.locator(".decisions button", has_text=decision).first
    button.scroll_into_view_if_needed()
    assert button.is_visible() and button.is_enabled()
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert box["height"] >= 40  # a thumb's size
    button.click(trial=True)  # nothing covers it
    log_out(page)


def test_sign_in_pages_fit_a_phone_in_coordo_colours(browser_page, demo_server):
    page, url = browser_page, demo_server
    page.set_viewport_size(PHONE)
    for path in ("/comptes/login/", "/comptes/password_reset/", "/comptes/verification/"):
        response = page.goto(url + path)
        if response.status == 404:
            continue
        scroll_width, inner_width = page.evaluate(WIDTHS)
        assert scroll_width <= inner_width, path
        colour = page.evaluate(
            "getComputedStyle(document.querySelector('.mdc-top-app-bar')).backgroundColor"
        )
        assert colour == "rgb(11, 110, 79)", f"{path} : barre {colour}"
