from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("edges", views.EdgeViewSet, basename="edge")
router.register("releases", views.ReleaseViewSet, basename="release")

urlpatterns = [
    path("assets/<int:pk>/lineage/", views.AssetLineageApi.as_view(), name="asset-lineage"),
    path("assets/<int:pk>/lineage/diff/", views.AssetLineageDiffApi.as_view(), name="asset-lineage-diff"),
    path("assets/<int:pk>/impact/", views.AssetImpactApi.as_view(), name="asset-impact"),
    path("assets/<int:pk>/provenance/", views.AssetProvenanceApi.as_view(), name="asset-provenance"),
    path("assets/<int:pk>/column-lineage/", views.ColumnEdgesApi.as_view(), name="asset-column-lineage"),
    path("lineage/path/", views.LineagePathApi.as_view(), name="lineage-path"),
    path("forks/", views.ForkApi.as_view(), name="forks"),
    *router.urls,
]
