"""The programme's lifecycle: drafting → awaiting signatures → in force → final evaluation →
ended. The coordinator prepares, the COPIL decides; each step is audited."""

import pytest
from django.urls import reverse

from audit.chain import version
from audit.models import AuditEvent
from projects.models import Programme
from workflows import services

S = Programme.Status
# transition: (from, to, the only roles allowed) — written from DESIGN.md, not read from the model
EXPECTED = {
    "send_for_signature": (S.DRAFTING, S.AWAITING_SIGNATURES, {"coordinator"}),
    "enter_into_force": (S.AWAITING_SIGNATURES, S.IN_FORCE, {"copil", "copil2"}),
    "start_final_evaluation": (S.IN_FORCE, S.FINAL_EVALUATION, {"coordinator"}),
    "end": (S.FINAL_EVALUATION, S.ENDED, {"copil", "copil2"}),
}
USERS = [
    "coordinator", "copil", "copil2", "cotech", "funder", "other_funder", "action_lead",
    "other_lead", "wg_member", "ars_referent", "outsider",
]  # fmt: skip
DRIVERS = {"send_for_signature": "coordinator", "enter_into_force": "copil",
           "start_final_evaluation": "coordinator", "end": "copil"}  # fmt: skip


def bring(world, status):
    programme = world.programme
    for name, (source, _target, _roles) in EXPECTED.items():
        if programme.status == status:
            break
        assert programme.status == source
        programme = services.transition(programme, name, actor=getattr(world, DRIVERS[name]))
    return Programme.objects.get(pk=programme.pk)


@pytest.mark.parametrize("name", EXPECTED)
@pytest.mark.parametrize("user", USERS)
def test_each_role_against_each_programme_transition(world, name, user):
    source, target, allowed = EXPECTED[name]
    programme = bring(world, source)
    events = AuditEvent.objects.count()
    if user in allowed:
        moved = services.transition(
            programme, name, actor=getattr(world, user), comment="Vu en séance"
        )
        assert Programme.objects.get(pk=programme.pk).status == target == moved.status
        event = AuditEvent.objects.latest("pk")
        assert (event.event, event.from_state, event.to_state) == (name, source, target)
        assert event.actor == getattr(world, user) and event.comment == "Vu en séance"
    else:
        with pytest.raises(services.Refused) as refused:
            services.transition(programme, name, actor=getattr(world, user))
        assert refused.value.rule == "role"
        assert Programme.objects.get(pk=programme.pk).status == source
        assert AuditEvent.objects.count() == events


def test_transitions_from_the_programme_page(client, world):
    url = reverse("coordo:programme", args=[world.programme.pk])
    step = reverse("coordo:programme-transition", args=[world.programme.pk, "send_for_signature"])
    seen = {"seen_version": version(world.programme)}
    client.force_login(world.copil)
    assert "Envoyer en signature" not in client.get(url).content.decode()
    assert client.post(step, seen).status_code == 403
    client.force_login(world.outsider)
    assert client.post(step, seen).status_code == 404
    client.force_login(world.coordinator)
    assert "Envoyer en signature" in client.get(url).content.decode()
    page = client.post(step, {**seen, "comment": "Version finale"}, follow=True)
    assert "« Envoyer en signature » : fait." in page.content.decode()
    assert Programme.objects.get(pk=world.programme.pk).status == S.AWAITING_SIGNATURES
    # A second click from the stale page changes nothing and says why.
    page = client.post(step, seen, follow=True)
    assert "depuis que vous avez ouvert la page" in page.content.decode()
    assert "Envoyer en signature" in page.content.decode()  # what changed, and by whom
    assert AuditEvent.objects.filter(event="send_for_signature").count() == 1
