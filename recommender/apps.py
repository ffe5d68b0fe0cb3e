from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    name = "recommender"
    verbose_name = "Recommender"

    def ready(self) -> None:
        from catalog.signals import dataset_refreshed

        from .receivers import profile_after_refresh

        dataset_refreshed.connect(profile_after_refresh, dispatch_uid="recommender_after_refresh")
