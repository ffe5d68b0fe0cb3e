from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from catalog.signals import dataset_refreshed

        from .receivers import evaluate_after_refresh

        dataset_refreshed.connect(evaluate_after_refresh, dispatch_uid="alerts_after_refresh")
