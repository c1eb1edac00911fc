"""A partner organisation's contacts, and the organisations a programme's directory lists
beyond those it already involves. An organisation itself (its name and sector) is
``projects.Organisation``: one record shared by every programme it takes part in."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from projects.models import Organisation, Programme

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 .()\-]{5,24}$",
    _("Saisissez un numéro de téléphone : des chiffres, espaces, points ou tirets, « + » en tête."),
)


class Contact(models.Model):
    """A person to reach in a partner organisation, with their professional details only.

    Personal data: erased on request (the row is deleted). ``str()`` is only its number, so
    that nothing of the person reaches the audit trail, which names objects by ``str()``."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="contacts",
        verbose_name=_("organisation"),
    )
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    function = models.CharField(_("fonction"), max_length=200, blank=True)
    email = models.EmailField(_("courriel professionnel"), max_length=254, blank=True)
    phone = models.CharField(
        _("téléphone professionnel"), max_length=30, blank=True, validators=[phone_validator]
    )
    # The programmes whose directory shows the contact, and whose coordination answers for it.
    programmes = models.ManyToManyField(
        Programme,
        blank=True,
        related_name="directory_contacts",
        verbose_name=_("contact pour les dispositifs"),
    )
    created_at = models.DateTimeField(_("ajouté le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        ordering = ["organisation", "last_name", "first_name", "pk"]
        verbose_name = _("contact de l'annuaire")
        verbose_name_plural = _("contacts de l'annuaire")
        constraints = [
            # A second one with the same name in the same organisation is a double entry.
            models.UniqueConstraint(
                Lower("last_name"),
                Lower("first_name"),
                "organisation",
                name="contact_unique_in_organisation",
                violation_error_message=_(
                    "Cette personne figure déjà parmi les contacts de l'organisation."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"Contact n° {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def clean(self) -> None:
        if not self.email and not self.phone:
            raise ValidationError(
                {"email": gettext("Indiquez un courriel ou un téléphone professionnel.")}
            )


class Listing(models.Model):
    """An organisation the coordination added to a programme's directory (the programme's
    memberships, signatories, fiches and funding requests list the others by themselves)."""

    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        related_name="directory_listings",
        verbose_name=_("dispositif"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="directory_listings",
        verbose_name=_("organisation"),
    )
    added_at = models.DateTimeField(_("ajoutée le"), auto_now_add=True)

    class Meta:
        ordering = ["programme", "organisation"]
        verbose_name = _("organisation de l'annuaire")
        verbose_name_plural = _("organisations de l'annuaire")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "organisation"],
                name="listing_unique_in_programme",
                violation_error_message=_("Cette organisation est déjà dans l'annuaire."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} — {self.programme}"
