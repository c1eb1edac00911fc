"""The REST API: the same rules as the pages (the role matrix replayed through it), writes
through the services with the version seen (409 when stale), stable error codes, personal
tokens (revoked or expired: 401; read-only: no writes; never logged), throttling, and query
counts that do not grow with the data."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from audit.chain import version
from audit.models import AuditEvent
from funding.models import FundingRequest
from projects.models import Action, ActionState
from tests.api.conftest import as_user, token_for
from tests.workflows.test_transition_matrix import ACTION_TABLE, ALL_STATES, USERS, prepare
from tests.world import action_in, build_world, new_action, request_funding
from workflows import services


def fiche_url(action, *rest) -> str:
    return "/api/v1/fiches/" + "/".join([str(action.pk), *rest]) + "/"


# --- reads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [u for u in USERS if u != "outsider"])
def test_members_read_their_programme_outsiders_get_404(api, world, who):
    action = action_in(world, ActionState.COPIL_REVIEW)
    as_user(api, getattr(world, who))
    listed = api.get("/api/v1/fiches/", {"programme": world.programme.pk}).json()
    assert [f["id"] for f in listed["results"]] == [action.pk]
    detail = api.get(fiche_url(action)).json()
    assert detail["state"] == "copil_review" and detail["version"] == version(action)
    as_user(api, world.outsider)
    assert api.get(fiche_url(action)).status_code == 404
    assert api.get("/api/v1/fiches/", {"programme": world.programme.pk}).json()["count"] == 0


@pytest.mark.parametrize(
    "who, status",
    [("coordinator", 200), ("ars_referent", 200), ("copil", 403), ("funder", 403)]
    + [("action_lead", 403), ("outsider", 404)],
)
def test_the_audit_trail_is_for_the_coordination_and_the_ars(api, world, who, status):
    action_in(world, ActionState.VALIDATED)
    as_user(api, getattr(world, who))
    trail = api.get(f"/api/v1/programmes/{world.programme.pk}/audit/")
    verdict = api.get(f"/api/v1/programmes/{world.programme.pk}/audit/verify/")
    assert (trail.status_code, verdict.status_code) == (status, status)
    if status == 200:
        events = AuditEvent.objects.filter(programme=world.programme).order_by("seq")
        assert [e["seq"] for e in trail.json()["results"]] == [e.seq for e in events]
        assert verdict.json()["intact"] is True
        assert verdict.json()["last_hash"] == events.last().hash
    else:
        assert trail.json()["code"] == ("role" if status == 403 else "not_found")


def test_a_tampered_chain_is_reported_as_by_verify_audit(api, world):
    action_in(world, ActionState.VALIDATED)
    event = AuditEvent.objects.filter(programme=world.programme).order_by("seq")[2]
    with connection.cursor() as cursor:
        from audit import db_guards

        db_guards.remove(connection)
        cursor.execute(
            "UPDATE workflows_auditevent SET comment = %s WHERE id = %s", ["forgé", event.pk]
        )
        db_guards.install(connection)
    as_user(api, world.coordinator)
    verdict = api.get(f"/api/v1/programmes/{world.programme.pk}/audit/verify/").json()
    assert verdict["intact"] is False and verdict["first_broken_seq"] == event.seq


def test_my_tasks(api, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    as_user(api, world.copil)
    tasks = api.get("/api/v1/taches/").json()
    assert [(t["object_type"], t["object_id"]) for t in tasks] == [("fiche", action.pk)]
    as_user(api, world.funder)
    assert api.get("/api/v1/taches/").json() == []


# --- writes: the role matrix of the pages, replayed ----------------------------------------


def _matrix_cases():
    for name, (sources, _target, _allowed) in ACTION_TABLE.items():
        yield name, sorted(sources)[0]
        outside = sorted(ALL_STATES - sources)
        if outside:
            yield name, outside[0]


@pytest.mark.parametrize("transition, state", list(_matrix_cases()))
def test_the_transition_matrix_through_the_api(api, world, transition, state):
    sources, target, allowed = ACTION_TABLE[transition]
    action = prepare(world, state, transition)
    extra = {"into": new_action(world).pk} if transition == "merge" else {}
    tokens = {who: token_for(getattr(world, who)) for who in USERS}
    problems = []
    for who in USERS:
        expected_ok = state in sources and who in allowed
        with transaction.atomic():
            api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[who]}")
            response = api.post(
                fiche_url(action, "transitions", transition),
                {"seen_version": version(action), "comment": "Motif de test", **extra},
                format="json",
            )
            if expected_ok:
                stored = Action.objects.get(pk=action.pk).state
                if response.status_code != 200 or stored != target:
                    problems.append(f"{who}: {response.status_code} {response.json()}")
            elif who == "outsider":
                if response.status_code != 404:
                    problems.append(f"{who}: {response.status_code}, expected 404")
            elif response.status_code not in (403, 409):
                problems.append(f"{who}: {response.status_code} {response.json()}")
            elif state in sources and response.status_code != 403:
                problems.append(f"{who}: {response.status_code}, expected 403 (role)")
            transaction.set_rollback(True)
        assert Action.objects.get(pk=action.pk).state == state
    assert not problems, "\n".join(problems)


def test_a_transition_by_api_writes_the_same_event_as_by_page(client, api, world):
    by_page = action_in(world, ActionState.COPIL_REVIEW)
    by_api = action_in(world, ActionState.COPIL_REVIEW)
    client.force_login(world.copil)
    client.post(
        reverse("coordo:action-transition", args=[by_page.pk, "request_changes"]),
        {"seen_version": version(by_page), "comment": "Préciser le public"},
    )
    as_user(api, world.copil)
    response = api.post(
        fiche_url(by_api, "transitions", "request_changes"),
        {"seen_version": version(by_api), "comment": "Préciser le public"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["state"] == "co_construction"

    def last(action):
        event = AuditEvent.objects.filter(action_id=action.pk).latest("seq")
        return (event.event, event.actor_id, event.from_state, event.to_state, event.comment)

    assert last(by_api) == last(by_page)


def test_a_stale_version_is_409_and_nothing_changes(api, world):
    action = action_in(world, ActionState.CO_CONSTRUCTION)
    seen = version(action)
    as_user(api, world.coordinator)
    first = api.patch(
        fiche_url(action), {"seen_version": seen, "context": "Version A"}, format="json"
    )
    assert first.status_code == 200 and first.json()["version"] > seen
    second = api.patch(
        fiche_url(action), {"seen_version": seen, "context": "Version B"}, format="json"
    )
    assert second.status_code == 409 and second.json()["code"] == "already_moved"
    assert Action.objects.get(pk=action.pk).context == "Version A"


def test_errors_have_a_code_and_a_message_in_the_clients_language(api, world):
    action = action_in(world, ActionState.CO_CONSTRUCTION)
    as_user(api, world.coordinator)
    bad = api.patch(fiche_url(action), {"seen_version": -1, "title": ""}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert set(bad.json()["errors"]) == {"seen_version", "title"}
    proposal = new_action(world)
    guarded = api.post(
        fiche_url(proposal, "transitions", "decline"),
        {"seen_version": version(proposal)},
        format="json",
    )
    assert guarded.status_code == 400 and guarded.json()["code"] == "comment"
    as_user(api, world.copil)
    english = api.post(
        fiche_url(action, "transitions", "approve"),
        {"seen_version": version(action)},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.status_code == 409 and english.json()["code"] == "state"
    assert "not possible" in english.json()["message"]
    french = api.post(
        fiche_url(action, "transitions", "approve"),
        {"seen_version": version(action)},
        format="json",
    )
    assert "n'est pas possible" in french.json()["message"]


def test_proposing_editing_and_funding_through_the_api(api, world):
    other = build_world(prefix="o-")
    as_user(api, world.action_lead)
    created = api.post(
        "/api/v1/fiches/",
        {"programme": world.programme.pk, "title": "Atelier par l'API", "context": "Besoin"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    fiche = Action.objects.get(pk=created.json()["id"])
    assert fiche.created_by == world.action_lead and fiche.state == "draft"
    assert (
        api.post(
            "/api/v1/fiches/", {"programme": other.programme.pk, "title": "X"}, format="json"
        ).status_code
        == 404
    )
    foreign = api.patch(
        fiche_url(fiche),
        {"seen_version": version(fiche), "objective": other.objective.pk},
        format="json",
    )
    assert foreign.status_code == 400 and "objective" in foreign.json()["errors"]
    validated = action_in(world, ActionState.VALIDATED)
    as_user(api, world.coordinator)
    request = api.post(
        "/api/v1/financements/",
        {
            "action": validated.pk,
            "funder": world.funder_org.pk,
            "scheme": "FIR",
            "year": 2026,
            "requested_amount": "5000.00",
        },
        format="json",
    )
    assert request.status_code == 201, request.json()
    submitted = api.post(
        f"/api/v1/financements/{request.json()['id']}/transitions/submit/",
        {"seen_version": request.json()["version"]},
        format="json",
    )
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"
    as_user(api, world.funder)
    granted = api.post(
        f"/api/v1/financements/{request.json()['id']}/transitions/grant/",
        {
            "seen_version": submitted.json()["version"],
            "amount": "5000.00",
            "decision_date": "2026-02-01",
        },
        format="json",
    )
    assert granted.status_code == 200 and granted.json()["state"] == "granted"


def test_each_funding_transition_takes_its_own_fields(api, world):
    """The decision's and the agreement's fields reach their transitions; a field another
    transition takes, or a missing one, is a 400 naming it, and nothing changes."""
    request_funding(world, action_in(world, ActionState.VALIDATED))
    request = services.transition(FundingRequest.objects.get(), "submit", actor=world.coordinator)
    as_user(api, world.funder)
    url = f"/api/v1/financements/{request.pk}/transitions/"
    granted = api.post(
        url + "grant/",
        {
            "seen_version": version(request),
            "amount": "5000.00",
            "decision_date": "2026-02-01",
            "decision_reference": "ARS-2026-17",
        },
        format="json",
    )
    assert granted.status_code == 200, granted.json()
    assert granted.json()["decision_reference"] == "ARS-2026-17"
    request = FundingRequest.objects.get(pk=request.pk)
    events = AuditEvent.objects.count()
    for payload, field in (
        # what the property-based test sent: a decision's fields to the agreement
        ({"amount": "6905105", "decision_date": "9852-06-03"}, "amount"),
        ({"agreement_reference": "CONV-1"}, "agreement_date"),
    ):
        refused = api.post(
            url + "sign_agreement/", {"seen_version": version(request), **payload}, format="json"
        )
        assert refused.status_code == 400 and field in refused.json()["errors"], refused.json()
    assert AuditEvent.objects.count() == events
    signed = api.post(
        url + "sign_agreement/",
        {
            "seen_version": version(request),
            "agreement_reference": "CONV-2026-3",
            "agreement_date": "2026-03-01",
        },
        format="json",
    )
    assert signed.status_code == 200, signed.json()
    assert signed.json()["agreement_reference"] == "CONV-2026-3"
    assert signed.json()["agreement_date"] == "2026-03-01"
    assert AuditEvent.objects.filter(event="sign_agreement", actor=world.funder).exists()


def test_a_measurement_through_the_api(api, world):
    action = action_in(world, ActionState.IMPLEMENTATION)
    indicator = action.indicators.first()
    as_user(api, world.action_lead)
    response = api.post(
        "/api/v1/mesures/",
        {
            "indicator": indicator.pk,
            "date": "2026-06-30",
            "value": "12",
            "seen_version": version(action),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert api.get("/api/v1/mesures/", {"fiche": action.pk}).json()["count"] == 1


def test_twenty_clients_posting_the_same_transition_one_wins(committed_db):
    import threading

    world = build_world()
    action = action_in(world, ActionState.COPIL_REVIEW)
    seen = version(action)
    from tests.workflows.test_concurrency import copil_members

    members = copil_members(world, extra=18)
    secrets = [token_for(member) for member in members]
    barrier = threading.Barrier(len(secrets))
    statuses: list[int] = []

    def post(secret):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        try:
            barrier.wait(timeout=60)
            response = client.post(
                fiche_url(action, "transitions", "approve"),
                {"seen_version": seen, "comment": ""},
                format="json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(s,)) for s in secrets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [200] + [409] * (len(secrets) - 1), statuses
    assert AuditEvent.objects.filter(action_id=action.pk, event="approve").count() == 1


# --- tokens --------------------------------------------------------------------------------


def test_revoked_or_expired_tokens_are_401(api, world):
    token, secret = ApiToken.issue(user=world.copil, name="t", days=30, read_only=True)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/programmes/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    assert api.get("/api/v1/programmes/").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() + datetime.timedelta(days=1), revoked_at=timezone.now()
    )
    answer = api.get("/api/v1/programmes/")
    assert answer.status_code == 401 and answer.json()["code"] == "authentication_failed"
    api.credentials(HTTP_AUTHORIZATION="Bearer coordo_" + "x" * 43)
    assert api.get("/api/v1/programmes/").status_code == 401
    api.credentials()
    assert api.get("/api/v1/programmes/").status_code in (401, 403)


def test_a_read_only_token_cannot_write_and_uses_are_counted(api, world):
    action = action_in(world, ActionState.CO_CONSTRUCTION)
    token, secret = ApiToken.issue(user=world.coordinator, name="t", days=30, read_only=True)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get(fiche_url(action)).status_code == 200
    refused = api.patch(
        fiche_url(action), {"seen_version": version(action), "context": "X"}, format="json"
    )
    assert refused.status_code == 403
    assert Action.objects.get(pk=action.pk).context != "X"
    token.refresh_from_db()
    assert token.uses == 2 and token.last_used_at is not None


def test_a_token_is_never_stored_nor_logged(api, world, caplog):
    caplog.set_level(logging.DEBUG)
    token, secret = ApiToken.issue(user=world.coordinator, name="t", days=30, read_only=False)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    api.get("/api/v1/fiches/999999/")
    api.post("/api/v1/fiches/", {"programme": 0}, format="json")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}x")
    api.get("/api/v1/programmes/")
    assert secret not in caplog.text
    assert all(secret not in str(value) for value in ApiToken.objects.values_list().get())


def test_the_tokens_page_shows_a_secret_once_and_revokes(client, world):
    client.force_login(world.funder)
    url = reverse("coordo:api-tokens")
    created = client.post(url, {"name": "Tableau du Département", "days": "30", "read_only": "on"})
    assert created.status_code == 302
    page = client.get(url).content.decode()
    token = ApiToken.objects.get(user=world.funder)
    secret = page.split('<code class="secret">')[1].split("<")[0]
    assert secret.startswith(token.start) and token.read_only
    assert secret not in client.get(url).content.decode()  # once
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/programmes/").status_code == 200
    client.force_login(world.copil)  # someone else's token: not theirs to revoke
    assert client.post(reverse("coordo:api-token-revoke", args=[token.pk])).status_code == 404
    client.force_login(world.funder)
    client.post(reverse("coordo:api-token-revoke", args=[token.pk]))
    assert api.get("/api/v1/programmes/").status_code == 401
    for bad in ({"name": "", "days": "30"}, {"name": "x", "days": "0"}, {"name": "x", "days": "x"}):
        assert client.post(url, bad).status_code == 400


def test_a_client_that_loops_is_throttled(api, world, settings):
    settings.API_RATE = "5/minute"
    as_user(api, world.copil)
    statuses = [api.get("/api/v1/programmes/").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429, 429]
    answer = api.get("/api/v1/programmes/")
    assert answer.json()["code"] == "throttled" and int(answer["Retry-After"]) > 0


# --- speed ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/fiches/", "/api/v1/financements/", "/api/v1/seances/", "/api/v1/taches/"]
)
def test_a_page_of_50_costs_the_same_queries_at_60_and_at_160_rows(api, world, url):
    as_user(api, world.coordinator)
    for _ in range(60):
        action_in(world, ActionState.FUNDING) if url.endswith("financements/") else new_action(
            world
        )
    with CaptureQueriesContext(connection) as few:
        assert api.get(url).status_code == 200
    for _ in range(100):
        new_action(world)
    with CaptureQueriesContext(connection) as many:
        api.get(url)
    assert len(many) == len(few)


def test_the_documentation_works_offline(client, world):
    client.force_login(world.copil)
    page = client.get("/api/v1/docs/").content.decode()
    import re

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    # Shipped files, and the page's own start-up script (served apart: no inline script).
    assert assets and all(a.startswith(("/static/", "/api/v1/docs/?script")) for a in assets)
    assert "<script>" not in page
    script = next(a for a in assets if a.startswith("/api/v1/docs/?script")).replace("&amp;", "&")
    assert b"SwaggerUIBundle" in client.get(script).content
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200 and b"/api/v1/fiches/" in schema.content


def test_the_territory_for_members_of_several_programmes(api, world):
    from tests.factories import MembershipFactory

    other = build_world(prefix="o-")
    action_in(world, ActionState.VALIDATED)
    action_in(other, ActionState.DRAFT)
    as_user(api, world.ars_referent)  # one programme: its dashboard says it all
    assert api.get("/api/v1/territoire/").status_code == 403
    MembershipFactory(user=world.ars_referent, programme=other.programme, role="ars_referent")
    answer = api.get("/api/v1/territoire/")
    assert answer.status_code == 200
    body = answer.json()
    assert {p["id"] for p in body["programmes"]} == {world.programme.pk, other.programme.pk}
    assert body["totals"]["fiches"] == 2
    states = {bar["key"]: bar["value"] for bar in body["fiches_by_state"]}
    assert states["validated"] == 1 and states["draft"] == 1
    only = api.get("/api/v1/territoire/", {"type": "CLSM"}).json()
    assert only["kind"] == "CLSM"
    assert api.get("/api/v1/territoire/", {"annee": "0"}).status_code == 400
    assert api.get("/api/v1/territoire/", {"type": "X"}).json()["code"] == "invalid"


def test_a_programme_lists_its_places_in_the_same_queries_however_many(api, world):
    from tests.factories import MembershipFactory
    from workflows import services

    as_user(api, world.copil)
    url = f"/api/v1/programmes/{world.programme.pk}/"
    assert api.get(url).json()["places"] == []
    add = lambda kind, name: services.add_place(  # noqa: E731
        programme=world.programme, actor=world.coordinator, kind=kind, name=name
    )
    add("epci", "Val-de-Lys Agglomération")
    add("qpv", "Les Hauts-Prés")
    body = api.get(url).json()
    assert sorted(body["places"], key=lambda p: p["kind"]) == [
        {"kind": "epci", "name": "Val-de-Lys Agglomération"},
        {"kind": "qpv", "name": "Les Hauts-Prés"},
    ]
    assert not {"communes", "epci", "priority_neighbourhoods"} & set(body)
    other = build_world(prefix="p-")
    MembershipFactory(user=world.copil, programme=other.programme, role="copil")
    with CaptureQueriesContext(connection) as few:
        assert api.get("/api/v1/programmes/").status_code == 200
    for n in range(10):
        add("commune", f"Commune {n}")
        services.add_place(
            programme=other.programme, actor=other.coordinator, kind="qpv", name=f"QPV {n}"
        )
    with CaptureQueriesContext(connection) as many:
        listed = api.get("/api/v1/programmes/").json()["results"]
    assert len(many) == len(few)
    assert sorted(len(p["places"]) for p in listed) == [10, 12]


def test_a_fiche_says_which_places_it_targets_and_whether_its_public_is_vulnerable(api, world):
    from workflows import services

    qpv = services.add_place(
        programme=world.programme, actor=world.coordinator, kind="qpv", name="Les Hauts-Prés"
    )
    action = services.create_action(
        programme=world.programme,
        actor=world.coordinator,
        data={"title": "Médiation santé", "vulnerable_public": True},
        places=[qpv],
    )
    as_user(api, world.copil)
    body = api.get(f"/api/v1/fiches/{action.pk}/").json()
    assert body["places"] == [{"kind": "qpv", "name": "Les Hauts-Prés"}]
    assert body["vulnerable_public"] is True
