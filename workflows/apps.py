from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workflows"

    def ready(self) -> None:
        # Import the flows and viewflow's node classes now, in the one thread that starts
        # Django. Otherwise the development server imports them from two threads at once
        # (its URL preloading and its system checks), which fails about one start in three
        # with « KeyError: 'viewflow.workflow.nodes' ».
        import viewflow.workflow.nodes  # noqa: F401

        from . import flows  # noqa: F401
