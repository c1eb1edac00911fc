from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project's own settings package as an app: it connects the security log's receivers."""

    name = "config"
    verbose_name = "Coordo"

    def ready(self) -> None:
        from . import security  # noqa: F401 - connects the login receivers
