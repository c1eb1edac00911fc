"""A choice's label, as pages show it (``get_<field>_display``): read in the reader's language
at each call, the stored value when it is not a choice, and a model's own display kept."""

from django.utils import translation

from funding.models import FundingRequest
from projects.models import Action, ActionState


def test_a_label_in_the_readers_language_at_each_call():
    fiche = Action(state=ActionState.DRAFT)
    with translation.override("fr"):
        assert fiche.get_state_display() == "Proposée"
    with translation.override("en"):
        assert fiche.get_state_display() == "Proposed"
    assert FundingRequest(state="granted").get_state_display() == str(
        FundingRequest.State.GRANTED.label
    )


def test_a_value_that_is_not_a_choice_shows_as_stored():
    assert Action(state="inconnu").get_state_display() == "inconnu"
    assert Action(state=None).get_state_display() is None
