from django.urls import path
from rest_framework.routers import DefaultRouter

from ingestion import receive

from . import views

router = DefaultRouter()
router.register("ingestion/events", views.ChangeEventViewSet, basename="change-event")
router.register("event-sources", views.EventSourceViewSet, basename="event-source")
router.register("imports", views.ImportJobViewSet, basename="import-job")

urlpatterns = [
    path("events/", receive.events_view, name="events-receive"),
    # no trailing slash: the path OpenLineage clients post to (api/v1/lineage), as on Marquez
    path("lineage", receive.openlineage_view, name="openlineage"),
    *router.urls,
]
