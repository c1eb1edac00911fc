"""What every page does the same way: who is asking from where, which version they saw, how a
refusal of the services is shown (403 for the role, a message otherwise), how forms fail."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from audit import chain
from workflows.services import Refused

PAGE_SIZE = 50
security_log = logging.getLogger("coordo.security")


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXIES`` reverse proxies
    the address the outermost of them saw (``X-Forwarded-For``, read from the right: what the
    client wrote on the left cannot be trusted)."""
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(hops) >= proxies and hops[-proxies]:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def seen(request: HttpRequest) -> int:
    """The version of the object the page showed (``seen_version``, posted by every form that
    changes it). A form without it counts as stale: nothing is saved from a page of unknown age."""
    value = request.POST.get("seen_version", "")
    return int(value) if value.isdigit() and len(value) < 19 else -1


def run_from_page(request: HttpRequest, call: Callable, success: str) -> bool:
    """Run a service for a form posted from a page: a refusal for the role is a 403 (the user
    may see but not do); any other refusal is shown as a message, nothing changed."""
    try:
        call()
    except Refused as exc:
        log_refusal(request, exc)
        if exc.rule == "role":
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
        return False
    messages.success(request, success)
    return True


def log_refusal(request: HttpRequest, exc: Refused) -> None:
    """A change refused by a rule, for the security log: the rule, who (by id) and where."""
    user = getattr(request, "user", None)
    security_log.info(
        "refused",
        extra={
            "event": "refused",
            "rule": exc.rule,
            "user_id": user.pk if user is not None and user.is_authenticated else None,
            "path": request.path,
        },
    )


def form_errors(form, exc: Refused) -> None:
    """A refusal of the services shown on the form it came from."""
    if exc.errors:
        for field, errors in exc.errors.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.message)


def form_messages(request: HttpRequest, form, prefix: str = "") -> None:
    """The errors of a small form posted from a bigger page, as messages on that page."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        text = f"{label} : {' '.join(errors)}" if label else " ".join(errors)
        messages.error(request, f"{prefix}{text}")


# How many fiches a list to pick from offers at most: beyond, the page's search box
# (``coordo/includes/fiche_search.html``) narrows it by words of their titles.
FICHES_OFFERED = 300


def fiche_picker(request: HttpRequest, fiches, name: str, chosen=()) -> dict:
    """The fiches a page offers to pick from: the first ``FICHES_OFFERED`` of ``fiches`` by
    title, or those whose title holds the words typed in the search box ``name``, and the
    ``chosen`` ones (ids) whatever they are. The page stays the same size whatever the
    programme's number of fiches; the service still accepts any fiche the rule allows."""
    words = request.GET.get(name, "").strip()[:200]
    offered = fiches.filter(title__icontains=words) if words else fiches
    rows = list(offered.order_by("title").values_list("pk", "title")[: FICHES_OFFERED + 1])
    listed = dict(rows[:FICHES_OFFERED])
    if chosen:
        listed.update(fiches.filter(pk__in=list(chosen)[:1000]).values_list("pk", "title"))
    return {
        "choices": sorted(listed.items(), key=lambda row: (row[1].lower(), row[0])),
        "more": len(rows) > FICHES_OFFERED,
        "words": words,
        "name": name,
        "limit": FICHES_OFFERED,
    }


def status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


def without_page(params) -> str:
    copy = params.copy()
    copy.pop("page", None)
    return copy.urlencode()


def filter_errors(filters) -> list[str]:
    """The errors of a list page's filters, each with the label of its field."""
    form = filters.form
    return [
        f"{form.fields[name].label} : {error}" if name in form.fields else error
        for name, errors in filters.errors.items()
        for error in errors
    ]


def with_versions(objects: list, model) -> list:
    """Each object with the version a form about it posts back (one query for them all)."""
    versions = chain.versions(model, [o.pk for o in objects])
    for obj in objects:
        obj.version = versions.get(obj.pk, 0)
    return objects
