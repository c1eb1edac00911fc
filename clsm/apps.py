from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClsmConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clsm"
    verbose_name = _("Travaux propres du CLSM")
