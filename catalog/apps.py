from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        from .history import stamp_change_source

        pre_create_historical_record.connect(stamp_change_source, dispatch_uid="catalog_change_source")
