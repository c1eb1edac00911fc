from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project's own settings package as an app: it connects the security log's receivers
    and the page cache's watch on the database's writes."""

    name = "config"
    verbose_name = "Coordo"

    def ready(self) -> None:
        from . import page_cache, security  # noqa: F401 - security connects the login receivers

        page_cache.connect()
