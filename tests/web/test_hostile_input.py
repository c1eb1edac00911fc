"""The same hostile values thrown at every field of every form and filter of the pages: the
answer is a page (with a clear error, or a refusal), never a server error.

The forms are read from the pages themselves, as a browser would see them, so that a new form
is covered without touching this file.
"""

import datetime
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.models import ActionState, Membership, Role
from tests.world import action_in
from workflows import services

HOSTILE = [
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "abc",
    "1\x00",
    "\x00",
    "99999999999999999999",
    "-1",
    "0",
    "32767",
    "1e309",
    "NaN",
    "x" * 3000,
    '=HYPERLINK("http://example.org")',
    "<script>alert(1)</script>",
]


# A valid value for an empty field of each kind, so that the hostile value is the only wrong one
# and reaches as deep as it can.
PLAUSIBLE = {"date": "2026-06-30", "datetime-local": "2026-06-30T14:00", "number": "10"}


class _Forms(HTMLParser):
    """Every form of a page: its method, action and fields with a plausible value."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "method": (attrs.get("method") or "get").lower(),
                    "action": attrs.get("action") or "",
                    "fields": {},
                    "files": False,
                }
            )
        elif not self.forms:
            return
        fields = self.forms[-1]["fields"] if self.forms else {}
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind == "file":
                self.forms[-1]["files"] = True
            elif kind in ("checkbox", "radio"):
                fields.setdefault(name, attrs.get("value", "on"))
            elif kind not in ("submit", "hidden", "search"):
                fields[name] = attrs.get("value") or PLAUSIBLE.get(kind, "Texte saisi")
            elif kind != "submit":
                fields[name] = attrs.get("value", "")
        elif tag == "textarea" and name:
            fields[name] = "Texte saisi"
        elif tag == "select" and name:
            self._select = name
            fields[name] = ""
        elif tag == "option" and self._select and attrs.get("value"):
            if not fields.get(self._select):
                fields[self._select] = attrs["value"]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def forms_of(client, url) -> list[dict]:
    response = client.get(url)
    assert response.status_code < 500, url
    parser = _Forms()
    parser.feed(response.content.decode())
    for form in parser.forms:
        form["action"] = form["action"] or url
    return parser.forms


@pytest.fixture
def busy_world(world):
    """A programme with a fiche at each stage, a funded request, a séance, a COTECH and a
    resident's proposal; the coordinator also sits on the COPIL and the COTECH and funds, so
    that one person sees every form."""
    Membership.objects.create(user=world.coordinator, programme=world.programme, role=Role.COPIL)
    Membership.objects.create(user=world.coordinator, programme=world.programme, role=Role.COTECH)
    Membership.objects.create(
        user=world.coordinator,
        programme=world.programme,
        role=Role.FUNDER,
        organisation=world.funder_org,
    )
    fiches = {
        state: action_in(world, state)
        for state in (
            ActionState.DRAFT,
            ActionState.CO_CONSTRUCTION,
            ActionState.COPIL_REVIEW,
            ActionState.VALIDATED,
            ActionState.FUNDING,
            ActionState.EVALUATION,
        )
    }
    world.programme = services.save_structure(
        world.programme,
        actor=world.coordinator,
        data={"has_cotech": True, "public_page": True},
    )
    fiches["opinion"] = action_in(world, ActionState.COPIL_REVIEW)  # the COTECH's opinion asked
    services.submit_resident_proposal(
        programme=world.programme, idea="Un banc", need="Attendre assis"
    )
    meeting = services.create_meeting(
        programme=world.programme,
        actor=world.coordinator,
        body="copil",
        date=timezone.now() - datetime.timedelta(days=1),
        place="Mairie",
    )
    return world, fiches, meeting


def pages(world, fiches, meeting) -> list[str]:
    p = world.programme.pk
    request = fiches[ActionState.FUNDING].funding_requests.get()
    return [
        reverse("coordo:home"),
        reverse("coordo:inbox"),
        reverse("coordo:actions"),
        reverse("coordo:programme", args=[p]),
        reverse("coordo:action-create", args=[p]),
        *(reverse("coordo:action", args=[f.pk]) for f in fiches.values()),
        reverse("coordo:action-edit", args=[fiches[ActionState.CO_CONSTRUCTION].pk]),
        reverse("coordo:evaluation-report", args=[fiches[ActionState.EVALUATION].pk]),
        reverse("coordo:funding", args=[p]),
        reverse("coordo:funding-request", args=[request.pk]),
        reverse("coordo:meetings", args=[p]),
        reverse("coordo:meeting", args=[meeting.pk]),
        reverse("coordo:audit-export", args=[p]),
        reverse("coordo:dashboard", args=[p]),
        reverse("coordo:annual-report", args=[p, 2026]),
        reverse("coordo:programme-settings", args=[p]),
        reverse("coordo:resident-proposals", args=[p]),
        reverse("public:propose", args=[p]),
        reverse("coordo:notifications"),
        reverse("coordo:api-tokens"),
    ]


def test_no_hostile_value_in_any_field_makes_a_server_error(client, busy_world):
    world, fiches, meeting = busy_world
    client.force_login(world.coordinator)
    client.raise_request_exception = False
    tried, errors = 0, []
    for page in pages(world, fiches, meeting):
        for form in forms_of(client, page):
            if form["files"] or form["action"] in (reverse("logout"), reverse("set_language")):
                continue  # uploads have their own tests; logging out would end the test
            for name in form["fields"]:
                if name in ("csrfmiddlewaretoken", "language", "next"):
                    continue
                for value in HOSTILE:
                    data = {**form["fields"], name: value}
                    send = client.post if form["method"] == "post" else client.get
                    response = send(form["action"], data)
                    tried += 1
                    if response.status_code >= 500:
                        errors.append((page, form["action"], name, value[:30]))
    assert tried > 1000
    assert errors == []


@pytest.mark.parametrize(
    "url",
    [
        "/coordo/actions/99999999999999999999/",
        "/coordo/dispositifs/99999999999999999999/financements/",
        "/coordo/financements/9223372036854775808/",
        "/coordo/dispositifs/1/rapport/99999/",
        "/coordo/actions/?dispositif=99999999999999999999",
        "/coordo/actions/?q=%00",
        "/coordo/actions/?annee=0&axe=99999999999999999999&porteur=-1",
        "/coordo/dispositifs/1/rapport/?annee=" + "9" * 5000,
    ],
)
def test_hostile_addresses_are_not_found_or_refused(client, world, url):
    client.force_login(world.coordinator)
    client.raise_request_exception = False
    assert client.get(url).status_code in (200, 302, 400, 404)
