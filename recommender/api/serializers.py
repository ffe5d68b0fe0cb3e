from __future__ import annotations

from rest_framework import serializers

from catalog.models import Asset
from recommender.choices import RecommendationStatus
from recommender.models import RecommendationRun, Relationship


class AssetBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class CandidateSerializer(AssetBriefSerializer):
    domain = serializers.CharField(allow_null=True)


class PairSerializer(serializers.Serializer):
    left = serializers.CharField(help_text="column of the product asked about")
    right = serializers.CharField(help_text="column of the candidate")
    score = serializers.FloatField()
    coma = serializers.FloatField(help_text="Valentine COMA similarity (0 when it did not propose the pair)")
    left_in_right = serializers.FloatField()
    right_in_left = serializers.FloatField()
    right_rows_matched = serializers.IntegerField()
    key_likeness = serializers.FloatField()
    name_similarity = serializers.FloatField()
    examples = serializers.ListField(child=serializers.CharField())
    join = serializers.BooleanField(help_text="whether the pair counts as a join key")


class OverlapSerializer(serializers.Serializer):
    left = serializers.CharField()
    right = serializers.CharField()
    right_in_left = serializers.FloatField()
    left_in_right = serializers.FloatField()
    right_rows_matched = serializers.IntegerField()
    statement = serializers.CharField()
    examples = serializers.ListField(child=serializers.CharField())


class ViewSummarySerializer(serializers.Serializer):
    score = serializers.FloatField()
    coverage = serializers.FloatField()
    recommended = serializers.BooleanField()
    computed_at = serializers.DateTimeField()


class EnrichmentSerializer(serializers.Serializer):
    rows_gained = serializers.IntegerField(help_text="rows of the candidate only the enriched view matched")
    rows_matched_plain = serializers.IntegerField()
    rows_matched_enriched = serializers.IntegerField()
    rows_added = serializers.IntegerField(help_text="rows the enrichment added to the product's view")
    plain_rows = serializers.IntegerField()
    via = serializers.ListField(child=serializers.DictField())
    relationships = serializers.ListField(child=serializers.IntegerField())
    example_columns = serializers.ListField(child=serializers.CharField())
    examples = serializers.ListField(child=serializers.ListField(child=serializers.CharField(allow_null=True)))


class RecommendationSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="null for a product you could request")
    candidate = CandidateSerializer()
    requestable = serializers.BooleanField(
        help_text="true: you may not see this product, but could request access; nothing of its data is shown"
    )
    view = serializers.ChoiceField(choices=["plain", "enriched"], required=False)
    score = serializers.FloatField(required=False)
    coverage = serializers.FloatField(required=False, help_text="share of the candidate's rows that join")
    recommended = serializers.BooleanField(required=False)
    status = serializers.ChoiceField(choices=RecommendationStatus.choices, required=False)
    pairs = PairSerializer(many=True, required=False)
    components = serializers.DictField(child=serializers.FloatField(), required=False)
    overlap = OverlapSerializer(many=True, required=False)
    rows = serializers.IntegerField(required=False, allow_null=True)
    rows_matched = serializers.IntegerField(required=False, allow_null=True)
    coverage_of = serializers.ChoiceField(
        choices=["asset", "candidate"],
        required=False,
        help_text="whose rows `coverage` counts: the referencing side (the candidate's rows, or the product's when "
        "the candidate holds the key)",
    )
    views = serializers.DictField(child=ViewSummarySerializer(), required=False)
    computed_at = serializers.DateTimeField(required=False)
    asset_version = serializers.CharField(required=False)
    candidate_version = serializers.CharField(required=False)
    relationship = serializers.IntegerField(required=False, allow_null=True)
    enrichment = EnrichmentSerializer(required=False, allow_null=True)


class RunSerializer(serializers.ModelSerializer):
    asset = serializers.PrimaryKeyRelatedField(read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = RecommendationRun
        fields = [
            "id",
            "asset",
            "status",
            "done",
            "total",
            "progress",
            "error",
            "started_at",
            "finished_at",
            "created_at",
        ]

    def get_progress(self, run: RecommendationRun) -> float:
        return round(run.done / run.total, 4) if run.total else (1.0 if run.status == "succeeded" else 0.0)


class RecommendationListSerializer(serializers.Serializer):
    asset = AssetBriefSerializer()
    run = RunSerializer(allow_null=True)
    results = RecommendationSerializer(many=True)


class RecommendationQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[*RecommendationStatus.values, "all"],
        default=RecommendationStatus.OPEN,
        help_text="open (default), accepted, dismissed, or all",
    )
    include_below = serializers.BooleanField(
        default=False, help_text="also list candidates below the threshold (to compare plain and enriched views)"
    )


class FeedbackSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["accept", "dismiss"])
    name = serializers.RegexField(
        r"^[A-Za-z][A-Za-z0-9_]{0,99}$",
        required=False,
        allow_blank=True,
        help_text="accept: the name of the relationship to record (default joinsWith)",
        error_messages={"invalid": "a letter, then letters, digits or underscores (e.g. hasClaim)"},
    )


class FeedbackOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    relationship = serializers.IntegerField(allow_null=True)


class EnrichedViewQuerySerializer(serializers.Serializer):
    hops = serializers.IntegerField(min_value=0, max_value=3, default=1)


class AdditionSerializer(serializers.Serializer):
    relationship = serializers.DictField()
    via = serializers.DictField()
    attribute = serializers.CharField()
    from_column = serializers.CharField()
    hop = serializers.IntegerField()
    rows_added = serializers.IntegerField()


class EnrichedViewSerializer(serializers.Serializer):
    asset = AssetBriefSerializer()
    hops = serializers.IntegerField()
    data_version = serializers.CharField()
    sample_rows = serializers.IntegerField()
    source_rows = serializers.IntegerField()
    plain_rows = serializers.IntegerField()
    enriched_rows = serializers.IntegerField()
    added_rows = serializers.IntegerField()
    via = serializers.ListField(child=serializers.DictField())
    additions = AdditionSerializer(many=True)
    columns = serializers.ListField(child=serializers.CharField())
    examples = serializers.ListField(child=serializers.ListField(child=serializers.CharField(allow_null=True)))


class ColumnPairSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=300)

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: declared here so the field is named as the JSON has it
        fields["from"] = serializers.CharField(max_length=300)
        return fields


NO_SUCH_ASSET = {
    "does_not_exist": "there is no asset {pk_value} that you may see; give the id of a data product you can open",
    "incorrect_type": "give an asset id (a whole number)",
}


class RelationshipSerializer(serializers.ModelSerializer):
    from_asset = serializers.PrimaryKeyRelatedField(queryset=Asset.objects.all(), error_messages=NO_SUCH_ASSET)
    to_asset = serializers.PrimaryKeyRelatedField(queryset=Asset.objects.all(), error_messages=NO_SUCH_ASSET)
    from_asset_name = serializers.CharField(source="from_asset.name", read_only=True)
    to_asset_name = serializers.CharField(source="to_asset.name", read_only=True)
    key_columns = ColumnPairSerializer(
        many=True, help_text='[{"from": column of from_asset, "to": column of to_asset}]'
    )
    attribute_mappings = ColumnPairSerializer(
        many=True,
        required=False,
        help_text='attributes that mean the same on both sides, e.g. [{"from": "Email", "to": "Contact_Email"}]',
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Relationship
        fields = [
            "id",
            "name",
            "from_asset",
            "from_asset_name",
            "to_asset",
            "to_asset_name",
            "key_columns",
            "attribute_mappings",
            "description",
            "source",
            "observations",
            "last_observed_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["source", "observations", "last_observed_at", "created_by", "created_at", "updated_at"]
        # uniqueness is checked by the service, with a message naming the products
        validators: list = []


class RelationshipUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    key_columns = ColumnPairSerializer(many=True, required=False)
    attribute_mappings = ColumnPairSerializer(many=True, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class GraphSerializer(serializers.Serializer):
    nodes = serializers.ListField(child=serializers.DictField())
    edges = serializers.ListField(child=serializers.DictField())
