from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from workflows.services import accounts

        from .models import ApiToken

        def tokens(sender, user, **kwargs) -> dict:
            fields = ("name", "created_at", "expires_at", "last_used_at", "uses", "read_only")
            rows = ApiToken.objects.filter(user=user).order_by("pk")
            return {"api_tokens": accounts.rows(rows, *fields, "revoked_at")}

        def forget(sender, user, **kwargs) -> None:
            ApiToken.objects.filter(user=user).delete()

        accounts.collect.connect(tokens, weak=False, dispatch_uid="api-tokens-collect")
        accounts.erased.connect(forget, weak=False, dispatch_uid="api-tokens-erased")
