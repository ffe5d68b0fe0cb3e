from django.urls import path
from rest_framework.routers import DefaultRouter

from . import data, views

router = DefaultRouter()
router.register("assets", views.AssetViewSet, basename="asset")
router.register("domains", views.DomainViewSet, basename="domain")
router.register("business-units", views.BusinessUnitViewSet, basename="business-unit")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("product-lines", views.ProductLineViewSet, basename="product-line")
router.register("tags", views.TagViewSet, basename="tag")
router.register("data-sources", data.DataSourceViewSet, basename="data-source")
router.register("datasets", data.DatasetViewSet, basename="dataset")
router.register("visuals", data.VisualViewSet, basename="visual")

urlpatterns = [
    path("search/", views.AssetSearchApi.as_view(), name="search"),
    path("reports/", views.ReportListApi.as_view(), name="report-list"),
    path("reports/<slug:name>/", views.ReportApi.as_view(), name="report"),
    path("folders/<int:pk>/members/", views.FolderMembersApi.as_view(), name="folder-members"),
    path("folders/<int:pk>/members/<int:asset_pk>/", views.FolderMemberApi.as_view(), name="folder-member"),
    *router.urls,
]
