import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.models import ApiToken


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture(autouse=True)
def fresh_throttle():
    """Token ids repeat from one test to the next (each test's data is rolled back): the
    throttle's counts, kept in the cache, must not."""
    cache.clear()


def token_for(user, *, read_only=False, days=30) -> str:
    _token, secret = ApiToken.issue(user=user, name="test", days=days, read_only=read_only)
    return secret


def as_user(client, user, *, read_only=False):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user, read_only=read_only)}")
    return client
