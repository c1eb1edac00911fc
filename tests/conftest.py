import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import translation

from audit import db_guards
from projects.models import Role
from workflows import services

from .factories import MembershipFactory, OrganisationFactory, UserFactory
from .world import build_world


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the application's language (French)."""
    with translation.override(django_settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files go to the test's own folder, never into the project."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def _audit_guards_back(django_db_setup, django_db_blocker):
    """Set up before ``transactional_db`` so that it is torn down after its flush."""
    yield
    with django_db_blocker.unblock():
        db_guards.install(connection)


@pytest.fixture
def committed_db(_audit_guards_back, transactional_db):
    """Writes really commit (no per-test transaction): threads see each other's work and row
    locks are real. pytest-django flushes the test database afterwards; the audit table's
    append-only triggers are lifted for that flush only."""
    name = str(connection.settings_dict["NAME"])
    assert "test" in name.lower(), f"refusing to run committed tests against {name}"
    yield
    db_guards.remove(connection)


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def contract_world(world):
    """The world's programme with two signatory organisations, each with its signatory (and a
    colleague of the first), distinct from the funders."""
    ville = OrganisationFactory(name=f"Ville de test {world.programme.pk}", kind="commune")
    world.users["signatory"] = UserFactory(username=f"signatory-{world.programme.pk}")
    world.users["signatory_colleague"] = UserFactory(username=f"signatory2-{world.programme.pk}")
    world.users["mayor"] = UserFactory(username=f"mayor-{world.programme.pk}")
    for user, org in (
        (world.signatory, world.funder_org),
        (world.signatory_colleague, world.funder_org),
        (world.mayor, ville),
    ):
        MembershipFactory(
            user=user, programme=world.programme, role=Role.SIGNATORY, organisation=org
        )
    world.programme = services.set_signatories(
        programme=world.programme, actor=world.coordinator, organisations=[world.funder_org, ville]
    )
    world.ville = ville
    return world
