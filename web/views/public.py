"""A programme's public page, without an account: what the programme is and does (its axes,
the fiches its COPIL validated and their progress, its plenary séances), the news feed of its
milestones, and the form where residents propose an idea (moderated by the coordination), then
read a confirmation. Only programmes that switched the page on answer; the page names no
person, shows no comment, and shows amounts only where the programme chose to publish them.

Bots are kept out without any third-party captcha, before anything is saved: a honeypot field
that people never see, the time the form was shown (signed, so a script cannot make it up),
and a limit per client address and programme counted in Django's cache, refused attempts
included. The address is only ever kept as a keyed hash, for an hour.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.core import signing
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.crypto import salted_hmac
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from projects.models import ActionState, Meeting, Programme
from reporting import summary
from workflows import services

from ..forms import ResidentProposalForm
from ..pages import client_ip, form_errors, status
from ..templatetags.territory import territory_groups

# A person reads the warning and types an idea in more than a few seconds; a form kept open
# longer than a day is refused too (its signed time cannot be reused forever by a script).
MIN_SECONDS = 3
MAX_SECONDS = 24 * 60 * 60
# Submissions per client address and programme in a window, refused attempts included.
RATE_LIMIT = 5
RATE_WINDOW = 60 * 60
HONEYPOT = "site_internet"  # a field bots fill in; hidden from people and screen readers
SHOWN = "shown"  # the signed time the form was displayed
_SALT = "coordo.public.proposal"
PAGE_SIZE = 30  # fiches per page of the public page


def _open_programme(pk: int) -> Programme:
    """The programme if its public page is on; 404 otherwise (whether it exists or not)."""
    programme = Programme.objects.filter(pk=pk, public_page=True).first()
    if programme is None:
        raise Http404(_("Aucune page publique ouverte à ce numéro."))
    return programme


def display_token(programme_id: int, *, at: float | None = None) -> str:
    """The signed time (``at``, by default now) the form of a programme was displayed."""
    return signing.dumps(
        {"p": programme_id, "t": int(time.time() if at is None else at)}, salt=_SALT
    )


def timing_refusal(token: str, programme_id: int) -> str | None:
    """Why a form posted with ``token`` cannot come from a person who read it (a message), or
    None: a signature that does not verify, another programme's form, too fast, too old."""
    try:
        shown = signing.loads(token, salt=_SALT)
        at, programme = int(shown["t"]), shown["p"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        programme = None
    if programme != programme_id:
        return _("Ce formulaire n'a pas pu être vérifié. Rechargez la page et recommencez.")
    elapsed = time.time() - at
    if elapsed < MIN_SECONDS:
        return _(
            "Formulaire envoyé trop vite pour avoir été lu. Patientez quelques secondes, "
            "puis envoyez-le à nouveau."
        )
    if elapsed > MAX_SECONDS:
        return _(
            "Ce formulaire a été ouvert il y a plus d'un jour. Rechargez la page et recommencez."
        )
    return None


def _attempts(request: HttpRequest, programme: Programme) -> int:
    """Count this attempt for the client's address and the programme; returns the count in the
    current window. The address is hashed with the site's secret key: the cache never holds it
    in clear, and the hash cannot be reversed by trying every address."""
    address = salted_hmac(_SALT, client_ip(request) or "unknown").hexdigest()
    key = f"public-proposal:{programme.pk}:{address}"
    cache.add(key, 0, timeout=RATE_WINDOW)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: a new window starts
        cache.set(key, 1, timeout=RATE_WINDOW)
        return 1


def _refused(request: HttpRequest, programme: Programme, message: str, code: int) -> HttpResponse:
    response = render(
        request, "public/refused.html", {"programme": programme, "message": message}, status=code
    )
    if code == 429:
        response["Retry-After"] = str(RATE_WINDOW)
    return response


@never_cache  # each display carries its own signed time
def propose(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _open_programme(pk)
    months = programme.contact_retention_months
    if request.method != "POST":
        form = ResidentProposalForm(retention_months=months)
        return _page(request, programme, form, display_token(programme.pk))
    if _attempts(request, programme) > RATE_LIMIT:
        return _refused(
            request,
            programme,
            _(
                "Trop de propositions envoyées depuis cette connexion. Réessayez dans une "
                "heure ; rien n'a été enregistré."
            ),
            429,
        )
    if request.POST.get(HONEYPOT, ""):
        return _refused(
            request,
            programme,
            _("Votre envoi n'a pas pu être accepté ; rien n'a été enregistré."),
            400,
        )
    token = request.POST.get(SHOWN, "")
    refusal = timing_refusal(token, programme.pk)
    if refusal:
        return _refused(request, programme, refusal + " " + _("Rien n'a été enregistré."), 400)
    form = ResidentProposalForm(request.POST, retention_months=months)
    if form.is_valid():
        try:
            services.submit_resident_proposal(programme=programme, **form.cleaned_data)
        except services.Refused as exc:
            form_errors(form, exc)
        else:
            return redirect("public:thanks", pk=programme.pk)
    return _page(request, programme, form, token)


def _page(request: HttpRequest, programme: Programme, form, token: str) -> HttpResponse:
    return render(
        request,
        "public/propose.html",
        {"programme": programme, "form": form, "shown": token, "honeypot": HONEYPOT},
        status=status(form),
    )


def thanks(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "public/thanks.html", {"programme": _open_programme(pk)})


# --- the programme's public page and its news feed ------------------------------------------


def programme_page(request: HttpRequest, pk: int) -> HttpResponse:
    """What the programme is and does: its territory and period, its axes, its public fiches
    (paged, optionally of one state), its next plenary séances — and the way to propose."""
    programme = _open_programme(pk)
    prefetch_related_objects([programme], "places")  # its places in one query, however many
    amounts = programme.public_amounts
    state = request.GET.get("etat", "")
    if state not in summary.PUBLIC_STATES:
        state = ""
    rows = summary.public_actions(programme, amounts=amounts, state=state or None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = summary.public_state_counts(programme)
    return render(
        request,
        "public/programme.html",
        {
            "programme": programme,
            "places": territory_groups(programme),
            "axes": summary.public_axes(programme),
            "counts": counts,
            "total": sum(n for _state, _label, n in counts),
            "state": state,
            "page": page,
            "query": urlencode({"etat": state}) if state else "",
            "state_labels": {value: str(label) for value, label in ActionState.choices},
            "amounts": amounts,
            "budget_total": summary.public_budget_total(programme) if amounts else None,
            "seances": summary.upcoming_seances(programme, bodies=(Meeting.Body.PLENARY,)),
        },
    )


@dataclass(frozen=True)
class _Entry:
    news: summary.NewsItem
    link: str
    guid: str


def _period(start, end) -> str:
    if start and end:
        return _("Période prévue : du {start} au {end}.").format(
            start=formats.date_format(start, "SHORT_DATE_FORMAT"),
            end=formats.date_format(end, "SHORT_DATE_FORMAT"),
        )
    return ""


class ProgrammeNews(Feed):
    """The programme's milestones as an Atom feed: its public fiches validated, started or
    closed, and its plenary séances convened — the latest 30, each linking to the public page.
    Never an amount, a comment or a person."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, pk: int) -> Programme:
        programme = _open_programme(pk)
        # Absolute, for the entries' links and ids (kept on this request's object only).
        programme.public_url = request.build_absolute_uri(
            reverse("public:programme", args=[programme.pk])
        )
        return programme

    def title(self, obj: Programme) -> str:
        return _("Actualités — {name}").format(name=obj.name)

    def subtitle(self, obj: Programme) -> str:
        return _(
            "Les fiches actions validées, mises en œuvre et clôturées, et les assemblées "
            "plénières du dispositif {name}."
        ).format(name=obj.name)

    def link(self, obj: Programme) -> str:
        return obj.public_url

    def feed_url(self, obj: Programme) -> str:
        return reverse("public:news", args=[obj.pk])

    def author_name(self, obj: Programme) -> str:
        return obj.name

    def items(self, obj: Programme) -> list[_Entry]:
        entries = []
        for news in summary.public_news(obj):
            anchor = (
                f"fiche-{news.action_id}" if news.seance is None else f"seance-{news.seance.pk}"
            )
            entries.append(
                _Entry(news, f"{obj.public_url}#{anchor}", f"{obj.public_url}#{news.key}")
            )
        return entries

    def item_title(self, item: _Entry) -> str:
        news = item.news
        if news.seance is not None:
            title = _("{body} du {date}").format(
                body=news.seance.body_label,
                date=formats.date_format(news.seance.date, "SHORT_DATE_FORMAT"),
            )
            return _("{title} — annulée").format(title=title) if news.seance.cancelled else title
        return _("{state} : {title}").format(state=news.state_label, title=news.title)

    def item_description(self, item: _Entry) -> str:
        news = item.news
        if news.seance is not None:
            return _("Le {date} à {time} · lieu : {place}.").format(
                date=formats.date_format(news.seance.date, "DATE_FORMAT"),
                time=formats.time_format(news.seance.date, "TIME_FORMAT"),
                place=news.seance.place,
            )
        parts = [_("Porteur : {lead}.").format(lead=news.lead)] if news.lead else []
        parts.append(_period(news.planned_start, news.planned_end))
        return " ".join(p for p in parts if p)

    def item_link(self, item: _Entry) -> str:
        return item.link

    def item_guid(self, item: _Entry) -> str:
        return item.guid

    def item_pubdate(self, item: _Entry):
        return item.news.at

    def item_updateddate(self, item: _Entry):
        return item.news.at


news_feed = ProgrammeNews()
