import pytest

from projects.models import ActionState
from tests.world import action_in


@pytest.mark.parametrize("state", list(ActionState.values))
def test_every_state_is_reachable_through_the_services(world, state):
    assert action_in(world, state).state == state
