import pytest

from projects.models import Programme
from tests.world import build_world


def as_clsm(programme: Programme) -> Programme:
    Programme.objects.filter(pk=programme.pk).update(kind=Programme.Kind.CLSM)
    return Programme.objects.get(pk=programme.pk)


@pytest.fixture
def clsm_world(db):
    """The test world, its programme (and the outsider's) a CLSM."""
    world = build_world()
    world.programme = as_clsm(world.programme)
    world.other_programme = as_clsm(world.other_programme)
    return world
