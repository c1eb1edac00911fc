"""The optional second factor (TOTP): turned on from *Sécurité du compte* with a first code;
from then on the password alone opens no page — not the home, not a fiche, not the admin —
until the app's code is typed; a wrong code is refused; turning it off takes a code too."""

import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "Une-phrase-de-passe-2026"


@pytest.fixture(autouse=True)
def no_throttle(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code then the right one, at once


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What the person's app shows (``steps_ahead``: the next 30-second windows, since a code
    serves once)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


@pytest.fixture
def coordinator(world):
    user = world.coordinator
    user.set_password(PASSWORD)
    user.save()
    return user


def log_in(client, user):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD})


def turn_on(client, user) -> TOTPDevice:
    page = client.get(reverse("coordo:security"))
    assert "Recommandée pour vous" in page.content.decode()  # a coordinator
    assert page.context["qr"].startswith("data:image/svg+xml;base64,") and page.context["secret"]
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post(reverse("coordo:security"), {"code": "000000"})
    assert wrong.status_code == 400 and "Code incorrect" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    client.post(reverse("coordo:security"), {"code": code(device)})
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_once_on_the_password_alone_opens_nothing(client, world, coordinator):
    log_in(client, coordinator)
    device = turn_on(client, coordinator)
    assert client.get(reverse("coordo:home")).status_code == 200  # verified when turned on
    client.logout()
    assert log_in(client, coordinator).status_code == 302
    fiche = reverse("coordo:programme", args=[world.programme.pk])
    for url in (reverse("coordo:home"), fiche, "/admin/", "/api/v1/programmes/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("two-factor-verify")), url
    verify = reverse("two-factor-verify") + f"?next={fiche}"
    wrong = client.post(verify, {"code": "123456", "next": fiche})
    assert wrong.status_code == 400 and "Code incorrect" in wrong.content.decode()
    right = client.post(verify, {"code": code(device, 1), "next": fiche})
    assert right.status_code == 302 and right["Location"] == fiche
    assert client.get(fiche).status_code == 200
    # Logging out stays possible before the code.
    client.logout()
    log_in(client, coordinator)
    assert client.post(reverse("logout")).status_code == 302


def test_the_next_page_is_never_another_site(client, coordinator):
    log_in(client, coordinator)
    device = turn_on(client, coordinator)
    client.logout()
    log_in(client, coordinator)
    answer = client.post(
        reverse("two-factor-verify"), {"code": code(device, 1), "next": "https://evil.example/"}
    )
    assert answer["Location"] == reverse("coordo:home")


def test_turning_it_off_takes_a_code(client, coordinator):
    log_in(client, coordinator)
    device = turn_on(client, coordinator)
    client.post(reverse("coordo:security"), {"code": "000000"})
    assert TOTPDevice.objects.filter(user=coordinator, confirmed=True).exists()
    client.post(reverse("coordo:security"), {"code": code(device, 1)})
    assert not TOTPDevice.objects.filter(user=coordinator).exists()
    client.logout()
    log_in(client, coordinator)
    assert client.get(reverse("coordo:home")).status_code == 200


def test_without_it_nothing_changes(client, world):
    client.force_login(world.wg_member)
    assert client.get(reverse("coordo:home")).status_code == 200
    page = client.get(reverse("coordo:security")).content.decode()
    assert "Pas encore activée" in page and "Recommandée pour vous" not in page
