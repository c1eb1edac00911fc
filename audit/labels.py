"""The audit trail in people's words: one labelling for the fiche's history on screen and for
the export the ARS receives.

Events store codes (``approve``, ``projects.action``, ``state: draft``, ``own_funds: 4500.00``,
ISO dates); this module turns them into labels and formatted values — of the transition, from
the model's lifecycle; of the other events and change keys, from the tables below; of the
fields and their choices, from the model's metadata — in the language asked for (the export
is always in French; the page in the reader's language). Every event and every change key the
code writes must have a label here: ``tests/audit/test_labels.py`` runs every service and
checks it. Values: dates as ``jj/mm/aaaa``, amounts as ``4 500,00 €``, codes as their labels.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from projects import lifecycle
from projects.models import MoneyField

from . import chain

# Events that are not transitions of the object they concern.
EVENT_LABELS = {
    "create": _("Création de la fiche"),
    "update": _("Modification de la fiche"),
    "add_budget_line": _("Ajout d'une ligne budgétaire"),
    "update_budget_line": _("Ligne budgétaire modifiée"),
    "remove_budget_line": _("Ligne budgétaire supprimée"),
    "record_budget_actual": _("Réalisé d'une ligne budgétaire"),
    "add_indicator": _("Ajout d'un indicateur"),
    "funding_waiver": _("Dérogation de financement du COPIL"),
    "record_measurement": _("Mesure d'indicateur"),
    "write_evaluation_report": _("Rapport d'évaluation"),
    "update_evaluation_report": _("Rapport d'évaluation modifié"),
    "comment": _("Commentaire"),
    "take_task": _("Prise de la tâche"),
    "release_task": _("Tâche libérée"),
    "escalate": _("Retard signalé à la coordination"),
    "create_funding_request": _("Nouvelle demande de financement"),
    "add_tranche": _("Versement prévu"),
    "receive_tranche": _("Versement reçu"),
    "create_meeting": _("Séance convoquée"),
    "record_meeting": _("Registre de séance (présences et décisions)"),
    "apply_meeting_decisions": _("Décisions de la séance appliquées"),
    "import_workbook": _("Import d'un classeur"),
    "create_structure": _("Ajout au dispositif"),
    "update_structure": _("Modification du dispositif"),
    "remove_structure": _("Retrait du diagnostic ou des autres démarches"),
    "merge_in": _("Proposition fusionnée dans la fiche"),
    "give_opinion": _("Avis technique du COTECH"),
    "add_agenda_item": _("Point ajouté à l'ordre du jour"),
    "write_minutes": _("Compte rendu rédigé"),
    "validate_minutes": _("Compte rendu validé par la présidence"),
    "reschedule_meeting": _("Séance déplacée (nouvelle convocation)"),
    "sign": _("Signature"),
    "refuse_signature": _("Signature refusée"),
    "create_amendment": _("Avenant créé"),
    "apply_amendment": _("Avenant appliqué au contrat"),
    "update_amendment": _("Avenant modifié"),
    "prepare_evaluation": _("Évaluation du contrat préparée"),
    "write_evaluation": _("Évaluation du contrat rédigée"),
    "cancel_meeting": _("Séance annulée"),
    "resident_proposal": _("Proposition d'habitant reçue"),
    "erase_contacts": _("Contacts d'habitant·es effacés (fin de conservation)"),
    "attach_document": _("Document joint"),
    "remove_document": _("Document retiré"),
    "erase_account": _("Compte d'un·e membre effacé à sa demande (RGPD)"),
    "erase_contact": _("Contact d'un partenaire effacé à sa demande (RGPD)"),
    # The territory's places and the CLSM's own work.
    "remove_place": _("Lieu retiré du territoire"),
    "record_resource_session": _("Séance de la cellule ressource enregistrée"),
    "update_resource_session": _("Séance de la cellule ressource corrigée"),
    "record_training": _("Formation ou sensibilisation enregistrée"),
    "update_training": _("Formation ou sensibilisation corrigée"),
    "add_observation_indicator": _("Indicateur d'observation ajouté"),
    "set_observation_value": _("Valeur d'observation saisie"),
}

# Change keys that are not fields of the object the event concerns.
CHANGE_LABELS = {
    "observed_value": _("valeur observée (année : valeur)"),
    "task_owner": _("tâche prise par"),
    "file": _("fichier"),
    "actions": _("fiches actions"),
    "budget_lines": _("lignes budgétaires"),
    "funding_requests": _("demandes de financement"),
    "attendees": _("présents"),
    "decisions": _("décisions"),
    "decision_letter_sha256": _("empreinte du courrier de décision (SHA-256)"),
    "merged_proposals": _("proposition fusionnée"),
    "resident_proposals": _("proposition d'habitant"),
    "erased_contacts": _("contacts effacés"),
    "organisation": _("organisation"),
    "signed_copy_sha256": _("empreinte de la copie signée (SHA-256)"),
    "findings": _("répond aux besoins du diagnostic"),
    "scheme_objectives": _("contribue aux autres démarches"),
    "objectives": _("objectifs"),
}
_POINT = re.compile(r"^point (\d+)$")  # record_meeting: one decision per agenda item

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")
EMPTY = "∅"


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str
    single: bool = False  # a value, not a before/after pair


# How the sealed trail names a person (``chain.person``): by account number, shown with the
# person's name when read (or the pseudonym of an erased account).
PERSON = re.compile(r"compte n° (\d+)")


class Labels:
    """Labels in one language (``None``: the active one), each looked up once (model
    metadata; one query per new set of people named): make one per page or per export."""

    def __init__(self, language: str | None = None):
        self.language = language or translation.get_language()
        self._cache: dict[tuple, object] = {}
        self._people: dict[int, str] = {}

    def preload(self, texts) -> None:
        """Look up at once everyone the ``texts`` name (a page of events: one query)."""
        wanted = {int(n) for text in texts for n in PERSON.findall(text)} - set(self._people)
        for user in get_user_model().objects.filter(pk__in=wanted) if wanted else ():
            erased = chain.is_erased(user)
            self._people[user.pk] = chain.pseudonym(user.pk) if erased else chain.actor_label(user)

    def people(self, text: str) -> str:
        """``text`` with each « compte n° N » shown as that person's name."""
        if not text or "compte n° " not in text:
            return text
        self.preload([text])
        return PERSON.sub(lambda m: self._people.get(int(m.group(1)), m.group(0)), text)

    def _cached(self, key: tuple, compute):
        if key not in self._cache:
            with translation.override(self.language):
                self._cache[key] = compute()
        return self._cache[key]

    @staticmethod
    def _model(object_type: str) -> type[models.Model] | None:
        try:
            return apps.get_model(object_type)
        except (LookupError, ValueError):
            return None

    def _field(self, object_type: str, name: str) -> models.Field | None:
        model = self._model(object_type)
        try:
            field = model._meta.get_field(name) if model else None
        except FieldDoesNotExist:
            return None
        return field if hasattr(field, "verbose_name") else None  # not a reverse relation

    def type_label(self, object_type: str) -> str:
        def compute():
            model = self._model(object_type)
            return str(model._meta.verbose_name) if model else object_type

        return self._cached(("type", object_type), compute)

    def event_label(self, object_type: str, event: str) -> str:
        def compute():
            model = self._model(object_type)
            if model is not None and event in _transition_names(model):
                return str(lifecycle.label(model, event))
            return str(EVENT_LABELS.get(event, event))

        return self._cached(("event", object_type, event), compute)

    def state_label(self, object_type: str, state: str) -> str:
        if not state:
            return "—"

        def compute():
            model = self._model(object_type)
            if model is None or not _transition_names(model):
                return state
            return str(dict(lifecycle.state_field(model).choices).get(state, state))

        return self._cached(("state", object_type, state), compute)

    def field_label(self, object_type: str, name: str) -> str:
        def compute():
            if name in CHANGE_LABELS:
                return str(CHANGE_LABELS[name])
            point = _POINT.match(name)
            if point:
                return gettext("point {n}").format(n=point.group(1))
            field = self._field(object_type, name)
            return str(field.verbose_name) if field else name

        return self._cached(("field", object_type, name), compute)

    def _kind(self, object_type: str, name: str) -> tuple[str, dict]:
        """How a field's values read: ``money``, ``number``, ``text``, with its choices."""

        def compute():
            field = self._field(object_type, name)
            if field is None:
                return "guess", {}
            choices = {str(k): str(v) for k, v in (field.choices or ())}
            if isinstance(field, MoneyField):
                return "money", choices
            if isinstance(field, models.DecimalField):
                return "number", choices
            return "text", choices

        return self._cached(("kind", object_type, name), compute)

    def value(self, object_type: str, name: str, value: object) -> str:
        """One stored value of field ``name`` as a reader expects it."""
        if value is None or value == "":
            return EMPTY
        if isinstance(value, bool):
            return gettext("oui") if value else gettext("non")
        if isinstance(value, list | dict):
            return json.dumps(value, ensure_ascii=False)
        kind, choices = self._kind(object_type, name)
        text = str(value)
        if text in choices:
            return choices[text]
        with translation.override(self.language):
            moment = _moment(text)
            if moment is not None:
                return moment
            if kind in ("money", "number") or (kind == "guess" and _DECIMAL.match(text)):
                amount = _decimal(text)
                if amount is not None:
                    shown = formats.number_format(
                        amount, decimal_pos=2, use_l10n=True, force_grouping=True
                    )
                    return f"{shown} €" if kind == "money" else shown
        return self.people(text)

    def changes(self, object_type: str, changes: object) -> list[Change]:
        if not isinstance(changes, dict):
            return [Change("", "", str(changes), single=True)] if changes else []
        found = []
        for name, pair in sorted(
            changes.items(), key=lambda item: self._rank(object_type, item[0])
        ):
            label = self.field_label(object_type, name)
            if isinstance(pair, list) and len(pair) == 2:
                before, after = (self.value(object_type, name, v) for v in pair)
                found.append(Change(label, before, after))
            else:
                found.append(Change(label, "", self.value(object_type, name, pair), single=True))
        return found

    def _rank(self, object_type: str, name: str) -> int:
        """Changes read in the order of the model's fields (a JSON column may reorder them)."""

        def compute():
            model = self._model(object_type)
            return {f.name: i for i, f in enumerate(model._meta.fields)} if model else {}

        order = self._cached(("rank", object_type), compute)
        return order.get(name, len(order))

    def changes_text(self, object_type: str, changes: object) -> str:
        """The changes on one line: « intitulé : A → B | budget : ∅ → 4 500,00 € »."""
        return " | ".join(
            f"{c.label} : {c.after}" if c.single else f"{c.label} : {c.before} → {c.after}"
            for c in self.changes(object_type, changes)
            if c.label or c.after
        )


def _transition_names(model) -> tuple[str, ...]:
    return lifecycle.names(model) if lifecycle.has_lifecycle(model) else ()


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _moment(text: str) -> str | None:
    """An ISO date or date-time of the trail in the active language's short format (local
    time), or None if ``text`` is not one."""
    try:
        if _ISO_DATE.match(text):
            return formats.date_format(datetime.date.fromisoformat(text), "SHORT_DATE_FORMAT")
        if _ISO_DATETIME.match(text):
            moment = datetime.datetime.fromisoformat(text)
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return formats.date_format(moment, "SHORT_DATETIME_FORMAT")
    except ValueError:
        return None
    return None
