from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    name = "recommender"
    verbose_name = "Recommender"

    def ready(self) -> None:
        from catalog.signals import dataset_refreshed
        from ingestion.signals import join_observed

        from .receivers import profile_after_refresh, relate_observed_join

        dataset_refreshed.connect(profile_after_refresh, dispatch_uid="recommender_after_refresh")
        join_observed.connect(relate_observed_join, dispatch_uid="recommender_observed_join")
