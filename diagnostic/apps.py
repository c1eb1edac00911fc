from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiagnosticConfig(AppConfig):
    name = "diagnostic"
    verbose_name = _("Diagnostic local de santé et autres démarches")
    default_auto_field = "django.db.models.BigAutoField"
