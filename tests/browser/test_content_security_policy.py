"""Under the Content-Security-Policy (scripts from Coordo's origin only), the pages still work
in a real browser: the Material drawer, the print buttons, the filters that apply on change,
the API's Swagger UI — and the browser reports no violation."""

from .test_copil_journey import log_in

PAGES = [
    "/coordo/",
    "/coordo/taches/",
    "/coordo/dispositifs/{cls}/",
    "/coordo/dispositifs/{cls}/tableau-de-bord/",
    "/coordo/dispositifs/{cls}/financements/",
    "/coordo/dispositifs/{cls}/seances/",
    "/coordo/dispositifs/{cls}/partenaires/",
    "/coordo/dispositifs/{cls}/note-de-synthese/",
    "/api/v1/docs/",
    "/public/dispositifs/{cls}/",
]


def test_no_page_breaks_the_policy(browser_page, demo_server):
    page = browser_page
    violations = []
    page.on(
        "console",
        lambda m: (
            violations.append((page.url, m.text)) if "Content Security Policy" in m.text else None
        ),
    )
    log_in(page, demo_server, "coordinatrice")
    cls = page.locator("a:has-text('CLS Val-de-Lys')").first.get_attribute("href").split("/")[-2]
    for path in PAGES:
        response = page.goto(demo_server + path.format(cls=cls))
        page.wait_for_load_state("networkidle")
        assert response.status == 200, path
        assert "'self'" in response.headers["content-security-policy"]
    # The Swagger UI ran (its script comes from a file, not inline).
    page.goto(demo_server + "/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15000)
    # The inbox's filter applies as soon as it is ticked (a script of Coordo's origin).
    page.goto(demo_server + "/coordo/taches/")
    with page.expect_navigation():
        page.get_by_label("En retard seulement").check()
    assert "retard=1" in page.url
    assert violations == []
