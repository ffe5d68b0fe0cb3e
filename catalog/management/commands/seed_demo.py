"""`manage.py seed_demo`: a demo organisation, a BI services firm that also runs an insurance data mesh.

Every asset is written through `catalog.services` (source "import"), keyed on a stable (kind, external_id), and
reference rows, users and groups are fetched or created, so a second run finds everything in place and changes
nothing. Only assets created by this run get a past: their history is dated over the months before today, their
created/updated times are back-dated to match, and some of them get recorded views.

Lineage is written through `lineage.services` the same way: each relationship once, valid from when both ends
existed (or from a dated event: a release, a retirement), so lineage as of any past date and diffs between dates
show what happened; a relationship already on record, open or ended, is left as it is.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from time import monotonic
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from simple_history.signals import pre_create_historical_record

from access.choices import Permission
from access.models import Grant
from access.services import grant_set
from catalog.choices import AssetKind, AssetStatus, ChangeSource, Environment
from catalog.models import (
    Asset,
    AssetView,
    BusinessUnit,
    Column,
    Customer,
    Domain,
    FolderMembership,
    ProductLine,
    Tag,
)
from catalog.services import asset_upsert, asset_view_record, folder_membership_add
from lineage.choices import EdgeKind, Transformation
from lineage.models import ColumnEdge, Edge, Release
from lineage.services import column_edge_upsert, edge_end, edge_upsert

SOURCE = ChangeSource.IMPORT
ACCOUNT = "arn:aws:quicksight:eu-west-1:111122223333"
DEMO_PASSWORDS = {"admin": "cartograph-admin", "ana": "cartograph-demo"}


def arn(resource: str, slug: str) -> str:
    """A stable QuickSight-style ARN, e.g. arn:aws:quicksight:eu-west-1:111122223333:dashboard/<slug>."""
    return f"{ACCOUNT}:{resource}/{slug}"


def glue_arn(domain: str, slug: str) -> str:
    """The Glue table behind a mesh data product's output port."""
    return f"arn:aws:glue:eu-west-1:111122223333:table/mesh_{domain}/{slug.replace('-', '_')}"


def template_arn(line: str, version: int = 1) -> str:
    """Each template version is an asset of its own, as a release makes it; version 1 keeps the plain ARN."""
    return arn("template", line if version == 1 else f"{line}-v{version}")


def col(
    name: str, data_type: str, description: str = "", *, nullable: bool = True, tags: Sequence[str] = ()
) -> dict[str, Any]:
    return {"name": name, "data_type": data_type, "description": description, "nullable": nullable, "tags": [*tags]}


def retyped(columns: list[dict[str, Any]], **types: str) -> list[dict[str, Any]]:
    """The columns with the given data types (what they were before a type change)."""
    return [{**c, "data_type": types.get(c["name"], c["data_type"])} for c in columns]


def retagged(columns: list[dict[str, Any]], **tags: list[str]) -> list[dict[str, Any]]:
    return [{**c, "tags": tags.get(c["name"], c["tags"])} for c in columns]


def without(columns: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    return [c for c in columns if c["name"] not in names]


@dataclass(frozen=True)
class Change:
    """A past change to an asset, `days_ago` by `by`; `before` holds the fields as they were before it."""

    days_ago: int
    by: str
    before: dict[str, Any]


# --- People ------------------------------------------------------------------------------------------------------

# username, first name, last name, groups
USERS: list[tuple[str, str, str, list[str]]] = [
    ("admin", "", "", []),
    ("ana", "Ana", "Ribeiro", ["healthcare-analysts"]),
    ("hugo", "Hugo", "Lindqvist", ["healthcare-analysts"]),
    ("ben", "Ben", "Carter", ["bi-developers"]),
    ("priya", "Priya", "Shah", ["bi-developers"]),
    ("lucas", "Lucas", "Moreau", ["bi-developers"]),
    ("dan", "Dan", "Okoro", ["data-platform"]),
    ("maria", "Maria", "González", ["customer-owners"]),
    ("tom", "Tom", "Becker", ["customer-owners"]),
    ("claire", "Claire", "Dubois", ["claims-owners"]),
    ("raj", "Raj", "Patel", ["claims-owners"]),
    ("peter", "Peter", "Novak", ["policy-owners"]),
    ("sofia", "Sofia", "Rossi", ["policy-owners"]),
    ("nadia", "Nadia", "Haddad", ["clinical-owners"]),
    ("omar", "Omar", "Farouk", ["clinical-owners"]),
    ("sam", "Sam", "Whitfield", ["sales-owners"]),
    ("lena", "Lena", "Vogel", ["sales-owners"]),
]
BI_DEVELOPERS = ["ben", "priya", "lucas"]

# --- Reference data ----------------------------------------------------------------------------------------------

BUSINESS_UNITS = [
    ("healthcare", "Healthcare", "Hospitals, clinics and care groups."),
    ("education", "Education", "Universities, school districts and training providers."),
    ("commercial", "Commercial", "Retail, logistics, banking and insurance."),
]
CUSTOMERS = [
    ("northwind-health", "Northwind Health", "healthcare"),
    ("st-aidans-hospital", "St Aidan's Hospital Trust", "healthcare"),
    ("riverside-clinics", "Riverside Clinics", "healthcare"),
    ("meridian-care", "Meridian Care Group", "healthcare"),
    ("lakeside-university", "Lakeside University", "education"),
    ("hillcrest-schools", "Hillcrest Schools District", "education"),
    ("open-learning-institute", "Open Learning Institute", "education"),
    ("contoso-retail", "Contoso Retail", "commercial"),
    ("fabrikam-logistics", "Fabrikam Logistics", "commercial"),
    ("tailspin-insurance", "Tailspin Insurance", "commercial"),
    ("harbour-mutual", "Harbour Mutual", "commercial"),
]
TAGS = [
    ("pii", "Personally identifiable information: access is logged and masked outside the owning domain."),
    ("gold", "Certified data product with an SLA and a named owner."),
    ("silver", "Cleaned and conformed, not yet certified."),
    ("finance", "Feeds financial reporting; changes need the finance team's sign-off."),
    ("clinical", "Clinical data under the health data sharing agreement."),
    ("reference", "A reference analysis that customer analyses are built from."),
    ("customer-fork", "A customer analysis forked from a reference analysis rather than built from its template."),
    ("certified", "Reviewed by the BI lead; safe to show to customers."),
    ("deprecated", "Kept for old reports; do not build on it."),
    ("uat", "Customer acceptance testing."),
]
# slug, name, owner group, description
DOMAINS = [
    ("customer", "Customer", "customer-owners", "Who our policyholders are: identity, contact details, segment."),
    ("claims", "Claims", "claims-owners", "Claims from first notice of loss to settlement."),
    ("policy", "Policy", "policy-owners", "Policies, cover and premiums across all lines of business."),
    ("clinical", "Clinical", "clinical-owners", "Care encounters paid for under health policies."),
    ("sales", "Sales", "sales-owners", "New business pipeline from brokers and direct channels."),
]

# --- Data sources and datasets -----------------------------------------------------------------------------------

# slug, name, type, host, database, description
DATA_SOURCES = [
    (
        "healthcare-warehouse",
        "Healthcare warehouse",
        "redshift",
        "hc-warehouse.c7x1k2ab.eu-west-1.redshift.amazonaws.com",
        "clinical",
        "Redshift cluster loaded nightly from the hospitals' patient administration and EPR extracts.",
    ),
    (
        "student-records",
        "Student records replica",
        "postgresql",
        "sis-replica.internal.example.com",
        "sis",
        "Read replica of the student information systems we host for education customers.",
    ),
    (
        "commercial-lakehouse",
        "Commercial lakehouse",
        "athena",
        "",
        "commercial",
        "Athena over the S3 lake of CRM, order and web analytics data.",
    ),
    (
        "insurance-mesh",
        "Insurance mesh output ports",
        "athena",
        "",
        "mesh",
        "Athena catalog over the output ports of the insurance data mesh.",
    ),
]

ADMISSIONS = [
    col("admission_id", "bigint", "Admission episode number from the PAS.", nullable=False),
    col("patient_id", "varchar(16)", "Hospital number of the patient.", nullable=False, tags=["pii"]),
    col("ward_code", "varchar(8)", "Ward the patient was first admitted to."),
    col("admitted_at", "timestamp", "Time of admission.", nullable=False),
    col("discharged_at", "timestamp", "Time of discharge; empty while the patient is in hospital."),
    col("length_of_stay_days", "numeric(6,2)", "Days between admission and discharge."),
    col("admission_type", "varchar(20)", "elective, emergency or transfer."),
    col("discharge_destination", "varchar(40)", "Home, care home, another hospital, deceased."),
]
WARD_OCCUPANCY = [
    col("ward_code", "varchar(8)", nullable=False),
    col("ward_name", "varchar(100)"),
    col("occupancy_date", "date", nullable=False),
    col("beds_available", "integer"),
    col("beds_occupied", "integer"),
    col("occupancy_rate", "numeric(5,4)", "beds_occupied / beds_available at midnight."),
]
READMISSIONS = [
    col("patient_id", "varchar(16)", nullable=False, tags=["pii"]),
    col("index_admission_id", "bigint", "The admission that was followed by a readmission.", nullable=False),
    col("readmission_id", "bigint", nullable=False),
    col("days_to_readmission", "integer"),
    col("specialty", "varchar(60)"),
    col("readmitted_on", "date"),
]
INFECTIONS = [
    col("incident_id", "bigint", nullable=False),
    col("ward_code", "varchar(8)"),
    col("organism", "varchar(60)", "MRSA, C. difficile, E. coli, ..."),
    col("reported_on", "date"),
    col("severity", "varchar(10)"),
    col("hospital_acquired", "boolean"),
]
ENROLMENTS = [
    col("student_id", "varchar(12)", nullable=False, tags=["pii"]),
    col("course_code", "varchar(12)", nullable=False),
    col("term", "varchar(9)", "e.g. 2024-AUT."),
    col("enrolled_on", "date"),
    col("status", "varchar(12)", "enrolled, withdrawn, completed, deferred."),
    col("funding_type", "varchar(20)"),
]
ATTENDANCE = [
    col("student_id", "varchar(12)", nullable=False, tags=["pii"]),
    col("session_date", "date", nullable=False),
    col("course_code", "varchar(12)"),
    col("attended", "boolean"),
    col("minutes_late", "integer"),
]
PIPELINE = [
    col("opportunity_id", "varchar(18)", nullable=False),
    col("account_name", "varchar(200)"),
    col("stage", "varchar(20)"),
    col("amount", "numeric(14,2)"),
    col("close_date", "date"),
    col("owner_email", "varchar(320)", tags=["pii"]),
]
ORDERS = [
    col("order_id", "varchar(20)", nullable=False),
    col("customer_id", "varchar(12)"),
    col("order_date", "date"),
    col("net_amount", "numeric(12,2)"),
    col("region", "varchar(30)"),
    col("channel", "varchar(20)", "web, store, marketplace."),
]
CLAIMS_WITH_POLICY = [
    col("claim_id", "varchar(14)", nullable=False),
    col("policy_id", "varchar(14)", nullable=False),
    col("product_code", "varchar(10)"),
    col("claim_amount", "numeric(12,2)"),
    col("loss_date", "date"),
    col("status", "varchar(12)"),
    col("premium_amount", "numeric(10,2)"),
]
CUSTOMER_360 = [
    col("customer_id", "varchar(12)", nullable=False),
    col("email", "varchar(320)", tags=["pii"]),
    col("postcode", "varchar(10)", tags=["pii"]),
    col("policies_held", "integer"),
    col("open_claims", "integer"),
    col("lifetime_premium", "numeric(12,2)"),
]


@dataclass(frozen=True)
class DatasetSpec:
    slug: str
    name: str
    source: str
    product_line: str
    owner: str
    age: int
    columns: list[dict[str, Any]]
    description: str
    rows: int
    table: str = ""
    sql: str = ""
    tags: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()
    status: str = AssetStatus.ACTIVE
    reads: tuple[str, ...] = ()  # mesh data products it reads besides its data source
    derived_from: tuple[str, ...] = ()  # datasets it is computed from upstream, in the warehouse


DATASETS = [
    DatasetSpec(
        slug="patient-flow-admissions",
        name="Admissions",
        source="healthcare-warehouse",
        product_line="patient-flow",
        owner="priya",
        age=390,
        columns=ADMISSIONS,
        description="One row per inpatient admission, with discharge once it happened.",
        rows=1_284_311,
        table="clinical.admissions",
        tags=("clinical", "certified"),
        changes=(
            Change(180, "priya", {"columns": retyped(ADMISSIONS, length_of_stay_days="integer")}),
            Change(40, "lucas", {"tags": ["clinical"]}),
        ),
    ),
    DatasetSpec(
        slug="patient-flow-ward-occupancy",
        name="Ward occupancy (daily)",
        source="healthcare-warehouse",
        product_line="patient-flow",
        owner="lucas",
        age=385,
        columns=WARD_OCCUPANCY,
        description="Midnight bed census per ward.",
        rows=96_420,
        sql="SELECT ward_code, ward_name, census_date AS occupancy_date, beds_available, beds_occupied,\n"
        "       beds_occupied::numeric / NULLIF(beds_available, 0) AS occupancy_rate\n"
        "FROM clinical.bed_census",
        tags=("clinical",),
        changes=(
            Change(150, "lucas", {"name": "ward_occupancy_daily"}),
            Change(90, "priya", {"description": "Bed census per ward."}),
        ),
    ),
    DatasetSpec(
        slug="clinical-quality-readmissions",
        name="30-day readmissions",
        source="healthcare-warehouse",
        product_line="clinical-quality",
        owner="ben",
        age=300,
        columns=READMISSIONS,
        description="Emergency readmissions within 30 days of a discharge.",
        rows=41_207,
        table="clinical.readmissions_30d",
        tags=("clinical",),
        derived_from=("patient-flow-admissions",),
    ),
    DatasetSpec(
        slug="clinical-quality-infections",
        name="Infection incidents",
        source="healthcare-warehouse",
        product_line="clinical-quality",
        owner="ben",
        age=295,
        columns=INFECTIONS,
        description="Infection control incidents reported by ward staff.",
        rows=3_912,
        table="clinical.infection_incidents",
        tags=("clinical",),
    ),
    DatasetSpec(
        slug="student-success-enrolments",
        name="Enrolments",
        source="student-records",
        product_line="student-success",
        owner="priya",
        age=330,
        columns=ENROLMENTS,
        description="Course enrolments per student and term.",
        rows=512_880,
        table="sis.enrolments",
        changes=(Change(210, "ben", {"columns": without(ENROLMENTS, "funding_type")}),),
    ),
    DatasetSpec(
        slug="student-success-attendance",
        name="Attendance sessions",
        source="student-records",
        product_line="student-success",
        owner="priya",
        age=328,
        columns=ATTENDANCE,
        description="Register marks per student and timetabled session.",
        rows=18_402_117,
        table="sis.attendance_marks",
    ),
    DatasetSpec(
        slug="sales-performance-pipeline",
        name="Sales pipeline",
        source="commercial-lakehouse",
        product_line="sales-performance",
        owner="lucas",
        age=260,
        columns=PIPELINE,
        description="Open and closed opportunities from the customers' CRMs.",
        rows=88_004,
        table="commercial.crm_opportunities",
        changes=(Change(75, "priya", {"columns": retyped(PIPELINE, amount="double")}),),
    ),
    DatasetSpec(
        slug="sales-performance-orders",
        name="Orders",
        source="commercial-lakehouse",
        product_line="sales-performance",
        owner="lucas",
        age=258,
        columns=ORDERS,
        description="Orders net of returns.",
        rows=7_310_552,
        table="commercial.orders",
        tags=("finance",),
    ),
    DatasetSpec(
        slug="claims-insight-claims",
        name="Claims with policy",
        source="insurance-mesh",
        product_line="claims-insight",
        owner="ben",
        age=210,
        columns=CLAIMS_WITH_POLICY,
        description="Claims joined to the policy they were made under, from the Claim and Policy data products.",
        rows=264_118,
        sql="SELECT c.claim_id, c.policy_id, p.product_code, c.claim_amount, c.loss_date, c.status, p.premium_amount\n"
        "FROM mesh_claims.claim c JOIN mesh_policy.policy p ON p.policy_id = c.policy_id",
        tags=("finance",),
        reads=("claim", "policy"),
    ),
    DatasetSpec(
        slug="claims-insight-customer-360",
        name="Customer 360",
        source="insurance-mesh",
        product_line="claims-insight",
        owner="priya",
        age=205,
        columns=CUSTOMER_360,
        description="One row per policyholder with their policies and open claims.",
        rows=151_930,
        sql="SELECT cu.customer_id, cu.email, cu.postcode, count(DISTINCT p.policy_id) AS policies_held,\n"
        "       count(DISTINCT c.claim_id) FILTER (WHERE c.status = 'open') AS open_claims,\n"
        "       sum(p.premium_amount) AS lifetime_premium\n"
        "FROM mesh_customer.customer cu\n"
        "LEFT JOIN mesh_policy.policy p ON p.customer_id = cu.customer_id\n"
        "LEFT JOIN mesh_claims.claim c ON c.cust_nbr = cu.customer_id\n"
        "GROUP BY 1, 2, 3",
        tags=("pii",),
        changes=(Change(30, "ben", {"description": "One row per policyholder."}),),
        reads=("customer", "policy", "claim"),
    ),
    DatasetSpec(
        slug="patient-flow-admissions-2019",
        name="Admissions (2019 extract)",
        source="healthcare-warehouse",
        product_line="patient-flow",
        owner="priya",
        age=700,
        columns=ADMISSIONS[:5],
        description="A one-off extract from before the warehouse; superseded by Admissions.",
        rows=402_771,
        table="archive.admissions_2019",
        tags=("deprecated",),
        status=AssetStatus.ARCHIVED,
        changes=(Change(200, "priya", {"status": AssetStatus.ACTIVE, "tags": []}),),
    ),
]

# --- The insurance data mesh -------------------------------------------------------------------------------------

CUSTOMER_COLUMNS = [
    col("customer_id", "varchar(12)", "Mesh-wide customer key, e.g. CUS-00012345.", nullable=False),
    col("first_name", "varchar(100)", tags=["pii"]),
    col("last_name", "varchar(100)", tags=["pii"]),
    col("email", "varchar(320)", tags=["pii"]),
    col("phone", "varchar(32)", "E.164 format.", tags=["pii"]),
    col("date_of_birth", "date", tags=["pii"]),
    col("postcode", "varchar(10)", tags=["pii"]),
    col("segment", "varchar(20)", "retail, sme or corporate."),
    col("customer_since", "date"),
]
CLAIM_COLUMNS = [
    col("claim_id", "varchar(14)", "Claim reference, e.g. CLM-2024-004211.", nullable=False),
    col("cust_nbr", "varchar(12)", "Customer number as keyed by the claims system (the Customer's customer_id)."),
    col("policy_id", "varchar(14)", nullable=False),
    col("claim_amount", "numeric(12,2)", "Amount claimed, in the policy currency."),
    col("loss_date", "date", "Date of the loss event."),
    col("reported_date", "date"),
    col("status", "varchar(12)", "open, settled, rejected or withdrawn."),
    col("settled_amount", "numeric(12,2)", "Empty until the claim is settled."),
    col("adjuster", "varchar(100)"),
]
POLICY_COLUMNS = [
    col("policy_id", "varchar(14)", nullable=False),
    col("customer_id", "varchar(12)", nullable=False),
    col("product_code", "varchar(10)", "MOTOR, HOME, HEALTH, TRAVEL ..."),
    col("premium_amount", "numeric(10,2)", "Annual premium."),
    col("start_date", "date"),
    col("end_date", "date"),
    col("status", "varchar(12)"),
    col("channel", "varchar(20)", "broker, direct or aggregator."),
]
ENCOUNTER_COLUMNS = [
    col("encounter_id", "varchar(16)", nullable=False),
    col("patient_email", "varchar(320)", tags=["pii"]),
    col("patient_phone", "varchar(32)", tags=["pii"]),
    col("provider", "varchar(200)", "Hospital or clinic that billed the encounter."),
    col("encounter_date", "date"),
    col("encounter_type", "varchar(20)", "inpatient, outpatient or day case."),
    col("diagnosis_code", "varchar(8)", "ICD-10 code of the primary diagnosis.", tags=["clinical"]),
    col("cost", "numeric(10,2)"),
]
OPPORTUNITY_COLUMNS = [
    col("opportunity_id", "varchar(18)", nullable=False),
    col("customer_id", "varchar(12)", "Empty until the prospect becomes a customer."),
    col("contact_email", "varchar(320)", tags=["pii"]),
    col("contact_phone", "varchar(32)", tags=["pii"]),
    col("stage", "varchar(20)", "prospect, quoted, negotiation, won, lost."),
    col("amount", "numeric(14,2)", "Expected annual premium."),
    col("close_date", "date"),
    col("broker", "varchar(100)"),
]


@dataclass(frozen=True)
class ProductSpec:
    slug: str
    name: str
    domain: str
    owner: str
    age: int
    columns: list[dict[str, Any]]
    description: str
    tags: tuple[str, ...]
    classification: str
    changes: tuple[Change, ...] = ()
    derived_from: tuple[str, ...] = ()  # products whose keys or details it takes


DATA_PRODUCTS = [
    ProductSpec(
        slug="customer",
        name="Customer",
        domain="customer",
        owner="maria",
        age=380,
        columns=CUSTOMER_COLUMNS,
        description="Every policyholder once, with verified contact details. Source of truth for customer_id.",
        tags=("gold", "pii"),
        classification="confidential",
        changes=(
            Change(240, "tom", {"name": "Customers"}),
            Change(120, "maria", {"columns": without(CUSTOMER_COLUMNS, "segment"), "tags": ["pii"]}),
            Change(15, "tom", {"description": "Every policyholder once."}),
        ),
    ),
    ProductSpec(
        slug="claim",
        name="Claim",
        domain="claims",
        owner="claire",
        age=300,
        columns=CLAIM_COLUMNS,
        description="Every claim with its current status and amounts; one row per claim, refreshed daily.",
        tags=("gold", "finance"),
        classification="confidential",
        changes=(
            Change(
                210,
                "raj",
                {"columns": retyped(CLAIM_COLUMNS, claim_amount="double precision", settled_amount="double precision")},
            ),
            Change(120, "raj", {"tags": []}),
            Change(35, "claire", {"description": "Every claim.", "tags": ["gold"]}),
        ),
        derived_from=("customer", "policy"),
    ),
    ProductSpec(
        slug="policy",
        name="Policy",
        domain="policy",
        owner="peter",
        age=350,
        columns=POLICY_COLUMNS,
        description="Every policy ever written, with its current status and annual premium.",
        tags=("gold", "finance"),
        classification="internal",
        changes=(
            Change(200, "sofia", {"name": "Policies"}),
            Change(160, "peter", {"description": "Every policy ever written."}),
        ),
        derived_from=("customer",),
    ),
    ProductSpec(
        slug="encounter",
        name="Encounter",
        domain="clinical",
        owner="nadia",
        age=160,
        columns=ENCOUNTER_COLUMNS,
        description="Care encounters billed under health policies, as received from providers.",
        tags=("pii", "clinical"),
        classification="restricted",
        changes=(
            Change(70, "omar", {"columns": retagged(ENCOUNTER_COLUMNS, patient_phone=[])}),
            Change(20, "nadia", {"description": "Care encounters billed under health policies."}),
        ),
        derived_from=("customer",),
    ),
    ProductSpec(
        slug="sales-opportunity",
        name="SalesOpportunity",
        domain="sales",
        owner="sam",
        age=130,
        columns=OPPORTUNITY_COLUMNS,
        description="New business opportunities from brokers and the direct channel.",
        tags=("silver", "pii"),
        classification="internal",
        changes=(
            Change(110, "sam", {"name": "Opportunities"}),
            Change(95, "lena", {"columns": retyped(OPPORTUNITY_COLUMNS, amount="integer")}),
        ),
        derived_from=("customer",),
    ),
]

# --- BI products -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductLineSpec:
    slug: str
    name: str
    business_unit: str
    lead: str
    age: int  # days since the reference analysis was built
    description: str
    sheets: tuple[str, ...]
    visuals: tuple[tuple[str, str], ...]  # (name, visual_type)
    customers: tuple[str, ...]
    forks: tuple[str, ...] = ()
    release: int | None = None  # days since version 2 was released, if it was
    release_sheet: str = ""
    lagging: tuple[str, ...] = ()  # customers still on version 1
    uat: tuple[str, ...] = ()  # customers with a staging dashboard


PRODUCT_LINES = [
    ProductLineSpec(
        slug="patient-flow",
        name="Patient Flow",
        business_unit="healthcare",
        lead="ben",
        age=400,
        description="Bed occupancy, admissions and discharge flow for hospital operations teams.",
        sheets=("Overview", "Wards", "Discharges"),
        visuals=(
            ("Bed occupancy by ward", "pivot"),
            ("Admissions trend", "line"),
            ("Average length of stay", "kpi"),
            ("Delayed discharges", "table"),
        ),
        customers=("northwind-health", "st-aidans-hospital", "riverside-clinics", "meridian-care"),
        forks=("st-aidans-hospital",),
        release=60,
        release_sheet="Discharge planning",
        lagging=("riverside-clinics",),
        uat=("northwind-health", "riverside-clinics"),
    ),
    ProductLineSpec(
        slug="clinical-quality",
        name="Clinical Quality",
        business_unit="healthcare",
        lead="priya",
        age=310,
        description="Readmissions and infection control indicators for clinical governance boards.",
        sheets=("Readmissions", "Infection control"),
        visuals=(
            ("Readmission rate by specialty", "bar"),
            ("Infection incidents by ward", "pivot"),
            ("Readmissions detail", "table"),
            ("Hospital-acquired infections", "kpi"),
        ),
        customers=("northwind-health", "st-aidans-hospital", "meridian-care"),
    ),
    ProductLineSpec(
        slug="student-success",
        name="Student Success",
        business_unit="education",
        lead="priya",
        age=340,
        description="Enrolment, attendance and retention for student services and course leaders.",
        sheets=("Attendance", "Enrolment", "At-risk students"),
        visuals=(
            ("Attendance rate by course", "bar"),
            ("Enrolment by term", "pivot"),
            ("Students at risk", "table"),
            ("Retention rate", "kpi"),
        ),
        customers=("lakeside-university", "hillcrest-schools", "open-learning-institute"),
        forks=("lakeside-university",),
    ),
    ProductLineSpec(
        slug="sales-performance",
        name="Sales Performance",
        business_unit="commercial",
        lead="lucas",
        age=270,
        description="Pipeline, orders and win rates for sales leadership.",
        sheets=("Pipeline", "Revenue"),
        visuals=(
            ("Pipeline by stage", "bar"),
            ("Revenue by region and month", "pivot"),
            ("Open opportunities", "table"),
            ("Win rate", "kpi"),
        ),
        customers=("contoso-retail", "fabrikam-logistics", "harbour-mutual"),
        forks=("contoso-retail",),
    ),
    ProductLineSpec(
        slug="claims-insight",
        name="Claims Insight",
        business_unit="commercial",
        lead="ben",
        age=220,
        description="Claims frequency, severity and loss ratio for insurers, built on the insurance data mesh.",
        sheets=("Claims", "Loss ratio"),
        visuals=(
            ("Claims by status", "pie"),
            ("Claim amount by product", "pivot"),
            ("Large losses", "table"),
            ("Loss ratio", "kpi"),
        ),
        customers=("tailspin-insurance", "harbour-mutual"),
    ),
]

# slug, name, environment, parent slug, folder type
FOLDERS = [
    ("development", "Development", Environment.DEV, None, "environment"),
    ("staging", "Staging", Environment.STAGING, None, "environment"),
    ("production", "Production", Environment.PROD, None, "environment"),
    ("development-reference", "Reference products", Environment.DEV, "development", "shared"),
    ("development-sandbox", "Analyst sandbox", Environment.DEV, "development", "shared"),
    ("production-templates", "Templates", Environment.PROD, "production", "shared"),
    ("production-shared-datasets", "Shared datasets", Environment.PROD, "production", "shared"),
]

# Dashboards from before the product lines, retired since: customer, product line, slug, name, age, days since
# retired, retired by, status, the dataset they read until then.
RETIRED_DASHBOARDS = [
    (
        "meridian-care",
        "clinical-quality",
        "infection-control-2023",
        "Infection control 2023",
        380,
        150,
        "ben",
        AssetStatus.ARCHIVED,
        "clinical-quality-infections",
    ),
    (
        "hillcrest-schools",
        "student-success",
        "attendance-legacy",
        "Attendance dashboard (legacy)",
        420,
        100,
        "priya",
        AssetStatus.DELETED,
        "student-success-attendance",
    ),
]

# Column lineage, "target is computed from source": (source asset, column, target asset, column, transformation,
# OpenLineage subtype, description). Assets are "product:<slug>" (mesh) or "dataset:<slug>". Visuals have no schema
# in the catalog, so column lineage ends at the datasets.
DIRECT, INDIRECT = Transformation.DIRECT, Transformation.INDIRECT
CLAIMS, CUSTOMER_360 = "dataset:claims-insight-claims", "dataset:claims-insight-customer-360"
COLUMN_LINEAGE: list[tuple[str, str, str, str, str, str, str]] = [
    ("product:claim", "claim_id", CLAIMS, "claim_id", DIRECT, "IDENTITY", ""),
    ("product:claim", "policy_id", CLAIMS, "policy_id", DIRECT, "IDENTITY", ""),
    ("product:policy", "policy_id", CLAIMS, "policy_id", INDIRECT, "JOIN", "Claims are joined to their policy."),
    ("product:policy", "product_code", CLAIMS, "product_code", DIRECT, "IDENTITY", ""),
    ("product:claim", "claim_amount", CLAIMS, "claim_amount", DIRECT, "IDENTITY", ""),
    ("product:claim", "loss_date", CLAIMS, "loss_date", DIRECT, "IDENTITY", ""),
    ("product:claim", "status", CLAIMS, "status", DIRECT, "IDENTITY", ""),
    ("product:policy", "premium_amount", CLAIMS, "premium_amount", DIRECT, "IDENTITY", ""),
    ("product:customer", "customer_id", CUSTOMER_360, "customer_id", DIRECT, "IDENTITY", ""),
    ("product:customer", "email", CUSTOMER_360, "email", DIRECT, "IDENTITY", ""),
    ("product:customer", "postcode", CUSTOMER_360, "postcode", DIRECT, "IDENTITY", ""),
    ("product:policy", "policy_id", CUSTOMER_360, "policies_held", DIRECT, "AGGREGATION", "count(DISTINCT policy_id)"),
    ("product:policy", "customer_id", CUSTOMER_360, "policies_held", INDIRECT, "JOIN", ""),
    ("product:claim", "claim_id", CUSTOMER_360, "open_claims", DIRECT, "AGGREGATION", "count(DISTINCT claim_id)"),
    ("product:claim", "status", CUSTOMER_360, "open_claims", INDIRECT, "FILTER", "Only claims with status open."),
    ("product:claim", "cust_nbr", CUSTOMER_360, "open_claims", INDIRECT, "JOIN", ""),
    (
        "product:policy",
        "premium_amount",
        CUSTOMER_360,
        "lifetime_premium",
        DIRECT,
        "AGGREGATION",
        "sum(premium_amount)",
    ),
    ("product:customer", "customer_id", "product:claim", "cust_nbr", DIRECT, "IDENTITY", "Keyed by the claims system."),
    ("product:customer", "customer_id", "product:policy", "customer_id", DIRECT, "IDENTITY", ""),
    ("product:customer", "customer_id", "product:sales-opportunity", "customer_id", DIRECT, "IDENTITY", "Once won."),
    ("product:customer", "email", "product:encounter", "patient_email", DIRECT, "IDENTITY", ""),
    ("product:customer", "phone", "product:encounter", "patient_phone", DIRECT, "IDENTITY", ""),
    (
        "dataset:patient-flow-admissions",
        "admission_id",
        "dataset:clinical-quality-readmissions",
        "index_admission_id",
        DIRECT,
        "IDENTITY",
        "",
    ),
    (
        "dataset:patient-flow-admissions",
        "admission_id",
        "dataset:clinical-quality-readmissions",
        "readmission_id",
        DIRECT,
        "IDENTITY",
        "",
    ),
    (
        "dataset:patient-flow-admissions",
        "patient_id",
        "dataset:clinical-quality-readmissions",
        "patient_id",
        DIRECT,
        "IDENTITY",
        "",
    ),
    (
        "dataset:patient-flow-admissions",
        "discharged_at",
        "dataset:clinical-quality-readmissions",
        "days_to_readmission",
        DIRECT,
        "TRANSFORMATION",
        "Days from the index discharge to the next emergency admission.",
    ),
    (
        "dataset:patient-flow-admissions",
        "admission_type",
        "dataset:clinical-quality-readmissions",
        "readmission_id",
        INDIRECT,
        "FILTER",
        "Only emergency admissions count as readmissions.",
    ),
    (
        "dataset:patient-flow-admissions",
        "admitted_at",
        "dataset:patient-flow-admissions",
        "length_of_stay_days",
        DIRECT,
        "TRANSFORMATION",
        "",
    ),
    (
        "dataset:patient-flow-admissions",
        "discharged_at",
        "dataset:patient-flow-admissions",
        "length_of_stay_days",
        DIRECT,
        "TRANSFORMATION",
        "",
    ),
    (
        "dataset:patient-flow-ward-occupancy",
        "beds_occupied",
        "dataset:patient-flow-ward-occupancy",
        "occupancy_rate",
        DIRECT,
        "TRANSFORMATION",
        "beds_occupied / beds_available",
    ),
    (
        "dataset:patient-flow-ward-occupancy",
        "beds_available",
        "dataset:patient-flow-ward-occupancy",
        "occupancy_rate",
        DIRECT,
        "TRANSFORMATION",
        "beds_occupied / beds_available",
    ),
]

# Which groups may see what beyond what they own: (group, permission, domain slugs).
DOMAIN_GRANTS = [
    ("healthcare-analysts", Permission.VIEW, ["clinical", "customer"]),
    ("bi-developers", Permission.VIEW, ["customer", "claims", "policy", "sales"]),
    ("claims-owners", Permission.VIEW, ["customer", "policy"]),
    ("policy-owners", Permission.VIEW, ["customer"]),
    ("sales-owners", Permission.VIEW, ["customer"]),
    ("clinical-owners", Permission.VIEW, ["customer"]),
    ("data-platform", Permission.VIEW, ["customer", "claims", "policy", "clinical", "sales"]),
]
# How likely an asset of each kind is to have been opened at all.
VIEW_PROBABILITY = {
    AssetKind.DASHBOARD: 0.9,
    AssetKind.DATA_PRODUCT: 1.0,
    AssetKind.ANALYSIS: 0.7,
    AssetKind.DATASET: 0.7,
    AssetKind.VISUAL: 0.45,
    AssetKind.FOLDER: 0.5,
    AssetKind.DATA_SOURCE: 0.5,
    AssetKind.TEMPLATE: 0.3,
}


@dataclass
class Seeder:
    """Writes the demo organisation; remembers what this run created so only that is back-dated and viewed."""

    now: datetime
    say: Callable[[str], None]
    rng: random.Random = field(default_factory=lambda: random.Random(20240601))
    history_date: datetime | None = None
    history_reason: str = ""
    users: dict[str, AbstractBaseUser] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    business_units: dict[str, BusinessUnit] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    product_lines: dict[str, ProductLine] = field(default_factory=dict)
    domains: dict[str, Domain] = field(default_factory=dict)
    assets: dict[str, Asset] = field(default_factory=dict)  # by external_id
    timeline: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)  # created in this run
    linked: set[tuple[int, int, str]] = field(default_factory=set)  # (source, target, kind) of every edge on record
    edges_created: set[int] = field(default_factory=set)  # in this run
    edges_touched: set[int] = field(default_factory=set)  # created or ended in this run
    column_edges_created: dict[int, datetime] = field(default_factory=dict)  # in this run, with their start
    releases_created: int = 0

    # --- time ----------------------------------------------------------------------------------------------------

    def at(self, days_ago: int) -> datetime:
        """A working-hours moment `days_ago` days before now (the same draw on every run)."""
        day = (self.now - timedelta(days=days_ago)).date()
        when = datetime.combine(day, time(self.rng.randint(8, 17), self.rng.randint(0, 59)), tzinfo=UTC)
        return min(when, self.now - timedelta(minutes=5))

    def date_history(self, sender: Any, history_instance: Any, **kwargs: Any) -> None:
        """Dates the history rows the services write while a past change is replayed."""
        if self.history_date is not None:
            history_instance.history_date = self.history_date
        if self.history_reason:
            history_instance.history_change_reason = self.history_reason

    @contextmanager
    def dated(self, moment: datetime | None, reason: str = "") -> Iterator[None]:
        """History rows written inside are dated `moment` and, when given, carry `reason`."""
        before = self.history_date, self.history_reason
        self.history_date, self.history_reason = moment, reason
        try:
            yield
        finally:
            self.history_date, self.history_reason = before

    def created(self, asset: Asset) -> datetime:
        """When the asset came to be: its replayed creation when made in this run, else its stored creation."""
        return self.timeline[asset.pk][0] if asset.pk in self.timeline else asset.created_at

    def last_changed(self, asset: Asset) -> datetime:
        return self.timeline[asset.pk][1] if asset.pk in self.timeline else asset.updated_at

    # --- assets --------------------------------------------------------------------------------------------------

    def put(
        self,
        *,
        kind: str,
        external_id: str,
        name: str,
        by: str,
        age: int,
        changes: Sequence[Change] = (),
        not_before: datetime | None = None,
        **final: Any,
    ) -> Asset:
        """Makes the asset look like `final`; when it is new, replays its past: created `age` days ago (but not before
        `not_before`, for what is made from another asset the same day), then changes."""
        final = {"name": name, **final}
        days = [age, *(change.days_ago for change in changes)]
        moments = [self.at(d) for d in days]
        if not_before is not None:
            moments[0] = max(moments[0], not_before)
        if Asset.objects.filter(kind=kind, external_id=external_id).exists():
            asset, _ = asset_upsert(actor=self.users[by], source=SOURCE, kind=kind, external_id=external_id, **final)
            self.assets[external_id] = asset
            return asset
        if any(earlier <= later for earlier, later in pairwise(days)) or days[-1] < 1 or moments != sorted(moments):
            raise CommandError(f"the past of {external_id} is not in order: {days} days ago")
        # The state after change k is `final` with the `before` of every later change; the earliest one wins.
        states = []
        for k in range(len(changes) + 1):
            state = dict(final)
            for change in reversed(changes[k:]):
                state.update(change.before)
            states.append(state)
        actors = [by, *(change.by for change in changes)]
        try:
            for state, actor, moment in zip(states, actors, moments, strict=True):
                self.history_date = moment
                asset, _ = asset_upsert(
                    actor=self.users[actor], source=SOURCE, kind=kind, external_id=external_id, **state
                )
        finally:
            self.history_date = None
        self.assets[external_id] = asset
        self.timeline[asset.pk] = (moments[0], moments[-1])
        return asset

    def place(self, folder: Asset, asset: Asset, *, by: str) -> None:
        """Puts the asset in the folder; a membership made now is dated when the later of the two was created."""
        known = [self.timeline[pk][0] for pk in (folder.pk, asset.pk) if pk in self.timeline]
        self.history_date = max(known) + timedelta(minutes=10) if len(known) == 2 else None
        try:
            folder_membership_add(folder=folder, asset=asset, actor=self.users[by], source=SOURCE)
        finally:
            self.history_date = None

    # --- sections ------------------------------------------------------------------------------------------------

    def seed_people(self) -> None:
        user_model = get_user_model()
        group_names = sorted({name for *_, groups in USERS for name in groups})
        for name in group_names:
            self.groups[name], _ = Group.objects.get_or_create(name=name)
        for username, first_name, last_name, groups in USERS:
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": f"{username}@example.com",
                    "is_staff": username == "admin",
                    "is_superuser": username == "admin",
                },
            )
            if created:
                password = DEMO_PASSWORDS.get(username)
                if password:
                    user.set_password(password)
                else:
                    user.set_unusable_password()  # only the demo sign-ins have passwords
                user.save(update_fields=["password"])
            if groups:
                user.groups.add(*(self.groups[name] for name in groups))
            self.users[username] = user
        self.say(f"seeding users and groups... {len(self.users)} users, {len(self.groups)} groups")

    def seed_reference(self) -> None:
        for slug, name, description in BUSINESS_UNITS:
            self.business_units[slug], _ = BusinessUnit.objects.get_or_create(
                slug=slug, defaults={"name": name, "description": description}
            )
        for slug, name, unit in CUSTOMERS:
            self.customers[slug], _ = Customer.objects.get_or_create(
                slug=slug, defaults={"name": name, "business_unit": self.business_units[unit]}
            )
        for line in PRODUCT_LINES:
            self.product_lines[line.slug], _ = ProductLine.objects.get_or_create(
                slug=line.slug,
                defaults={
                    "name": line.name,
                    "description": line.description,
                    "business_unit": self.business_units[line.business_unit],
                },
            )
        for slug, name, group, description in DOMAINS:
            self.domains[slug], _ = Domain.objects.get_or_create(
                slug=slug, defaults={"name": name, "description": description, "owner_group": self.groups[group]}
            )
        for name, description in TAGS:
            Tag.objects.get_or_create(slug=name, defaults={"name": name, "description": description})
        self.say(
            f"seeding reference data... {len(self.business_units)} business units, {len(self.customers)} customers, "
            f"{len(self.product_lines)} product lines, {len(self.domains)} domains, {len(TAGS)} tags"
        )

    def seed_sources_and_datasets(self) -> None:
        for slug, name, source_type, host, database, description in DATA_SOURCES:
            attributes = {"type": source_type, "database": database, "arn": arn("datasource", slug)}
            if host:
                attributes["host"] = host
            self.put(
                kind=AssetKind.DATA_SOURCE,
                external_id=arn("datasource", slug),
                name=name,
                by="dan",
                age=430,
                description=description,
                owner=self.users["dan"],
                owner_group=self.groups["data-platform"],
                environment=Environment.PROD,
                attributes=attributes,
            )
        self.say(f"seeding data sources... {len(DATA_SOURCES)}")
        for spec in DATASETS:
            line = self.product_lines[spec.product_line]
            attributes: dict[str, Any] = {
                "import_mode": "spice",
                "row_count": spec.rows,
                "arn": arn("dataset", spec.slug),
            }
            if spec.table:
                attributes["physical_table"] = spec.table
            if spec.sql:
                attributes["sql"] = spec.sql
                attributes["import_mode"] = "direct"
            source_name = next(name for slug, name, *_ in DATA_SOURCES if slug == spec.source)
            self.put(
                kind=AssetKind.DATASET,
                external_id=arn("dataset", spec.slug),
                name=spec.name,
                by=spec.owner,
                age=spec.age,
                changes=spec.changes,
                description=f"{spec.description} Reads from {source_name}.",
                owner=self.users[spec.owner],
                owner_group=self.groups["bi-developers"],
                business_unit=line.business_unit,
                product_line=line,
                environment=Environment.PROD,
                status=spec.status,
                attributes=attributes,
                tags=list(spec.tags),
                columns=spec.columns,
            )
        self.say(f"seeding datasets... {len(DATASETS)}")

    def seed_mesh(self) -> None:
        for spec in DATA_PRODUCTS:
            domain = self.domains[spec.domain]
            table = spec.slug.replace("-", "_")
            self.put(
                kind=AssetKind.DATA_PRODUCT,
                external_id=glue_arn(spec.domain, spec.slug),
                name=spec.name,
                by=spec.owner,
                age=spec.age,
                changes=spec.changes,
                description=spec.description,
                owner=self.users[spec.owner],
                owner_group=domain.owner_group,
                domain=domain,
                environment=Environment.PROD,
                attributes={
                    "output_port": f"athena://mesh_{spec.domain}.{table}",
                    "sla": "Refreshed by 06:00 UTC; 99.5% of days",
                    "update_frequency": "daily",
                    "classification": spec.classification,
                    "url": f"https://mesh.example.com/products/{spec.domain}/{spec.slug}",
                },
                tags=list(spec.tags),
                columns=spec.columns,
            )
        self.say(f"seeding mesh products... {len(DATA_PRODUCTS)}")

    def seed_folders(self) -> None:
        for slug, name, environment, parent, folder_type in FOLDERS:
            folder = self._folder(slug, name, environment, folder_type, age=420)
            if parent:
                self.place(self.assets[arn("folder", parent)], folder, by="ben")
        count = len(FOLDERS)
        for slug, customer in self.customers.items():
            for environment, parent in ((Environment.STAGING, "staging"), (Environment.PROD, "production")):
                folder = self._folder(
                    f"{parent}-{slug}",
                    f"{customer.name} ({parent})",
                    environment,
                    "customer",
                    age=self.rng.randint(300, 410),
                    customer=customer,
                    business_unit=customer.business_unit,
                )
                self.place(self.assets[arn("folder", parent)], folder, by="ben")
                count += 1
        self.say(f"seeding folders... {count}")

    def _folder(self, slug: str, name: str, environment: str, folder_type: str, *, age: int, **fields: Any) -> Asset:
        return self.put(
            kind=AssetKind.FOLDER,
            external_id=arn("folder", slug),
            name=name,
            by="ben",
            age=age,
            owner=self.users["ben"],
            owner_group=self.groups["bi-developers"],
            environment=environment,
            attributes={"arn": arn("folder", slug), "folder_type": folder_type},
            **fields,
        )

    def folder(self, slug: str) -> Asset:
        return self.assets[arn("folder", slug)]

    def seed_bi(self) -> None:
        before = len(self.assets)
        for line in PRODUCT_LINES:
            self._product_line(line)
        self._extras()
        self.say(f"seeding BI products (analyses, templates, dashboards, visuals)... {len(self.assets) - before}")

    def _product_line(self, line: ProductLineSpec) -> None:
        product_line = self.product_lines[line.slug]
        unit = product_line.business_unit
        common = {"owner_group": self.groups["bi-developers"], "business_unit": unit, "product_line": product_line}
        version = 2 if line.release else 1
        sheets = [*line.sheets, line.release_sheet] if line.release else [*line.sheets]
        reference_arn = arn("analysis", f"{line.slug}-reference")
        reference_changes = [
            Change(
                line.age - 30,
                self._other_developer(line.lead),
                {"description": f"{line.description} Work in progress."},
            )
        ]
        if line.release:
            reference_changes.append(
                Change(
                    line.release,
                    line.lead,
                    {
                        "version": 1,
                        "attributes": {"arn": reference_arn, "is_reference": True, "sheets": [*line.sheets]},
                    },
                )
            )
        reference = self.put(
            kind=AssetKind.ANALYSIS,
            external_id=reference_arn,
            name=f"{line.name} (reference)",
            by=line.lead,
            age=line.age,
            changes=reference_changes,
            description=line.description,
            owner=self.users[line.lead],
            environment=Environment.DEV,
            version=version,
            attributes={"arn": reference_arn, "is_reference": True, "sheets": sheets},
            tags=["reference", "certified"],
            **common,
        )
        self.place(self.folder("development-reference"), reference, by=line.lead)
        for visual_name, visual_type in line.visuals:
            visual = self.put(
                kind=AssetKind.VISUAL,
                external_id=f"{reference_arn}/visual/{slugify(visual_name)}",
                name=visual_name,
                by=line.lead,
                age=line.age,
                description=f"{visual_type.title()} visual on the {line.name} reference analysis.",
                owner=self.users[line.lead],
                environment=Environment.DEV,
                attributes={"visual_type": visual_type},
                **common,
            )
            self.place(self.folder("development-reference"), visual, by=line.lead)

        # Version 1 of the template; a release makes version 2 as an asset of its own and moves the "live" alias to it.
        first_arn = template_arn(line.slug)
        template_age = line.age - 2
        attributes = {"arn": first_arn, "source_analysis": reference_arn, "aliases": ["live"]}
        template = self.put(
            kind=AssetKind.TEMPLATE,
            external_id=first_arn,
            name=f"{line.name} template",
            by=line.lead,
            age=template_age,
            changes=[Change(line.release, line.lead, {"attributes": attributes})] if line.release else [],
            description=f"Made from the {line.name} reference analysis; customer analyses and dashboards use it.",
            owner=self.users[line.lead],
            environment=Environment.PROD,
            version=1,
            attributes={**attributes, "aliases": []} if line.release else attributes,
            tags=["certified"],
            **common,
        )
        self.place(self.folder("production-templates"), template, by=line.lead)

        for customer_slug in line.customers:
            self._subscription(line, customer_slug, template_age=template_age)

    def _subscription(self, line: ProductLineSpec, customer_slug: str, *, template_age: int) -> None:
        """One customer's analysis, dashboard(s) and dashboard visuals of a product line."""
        customer = self.customers[customer_slug]
        product_line = self.product_lines[line.slug]
        builder = self.rng.choice(BI_DEVELOPERS)
        reviewer = self._other_developer(builder)
        fork = customer_slug in line.forks
        upgraded = bool(line.release) and customer_slug not in line.lagging
        # Customers moved to a release must have been live before it; most customer work is recent.
        low = (line.release or 0) + 10 if upgraded else 5
        age = round(self.rng.triangular(low, min(template_age - 5, low + 150), low))
        common = {
            "owner": self.users[builder],
            "owner_group": self.groups["bi-developers"],
            "business_unit": customer.business_unit,
            "customer": customer,
            "product_line": product_line,
        }
        analysis_arn = arn("analysis", f"{customer_slug}-{line.slug}")
        if fork:
            analysis_changes = [Change(age - 3, reviewer, {"name": f"Copy of {line.name} (reference)", "tags": []})]
            description = (
                f"Forked from the {line.name} reference analysis for {customer.name}'s own measures; "
                "releases of the product line are merged by hand."
            )
        else:
            analysis_changes = []
            description = f"{line.name} for {customer.name}, created from the {line.name} template."
        analysis = self.put(
            kind=AssetKind.ANALYSIS,
            external_id=analysis_arn,
            name=f"{customer.name} {line.name} analysis",
            by=builder,
            age=age,
            changes=analysis_changes,
            description=description,
            environment=Environment.STAGING,
            # a fork is the customer's own reference analysis: its template makes their dashboards
            attributes={"arn": analysis_arn, "is_reference": fork, "sheets": [*line.sheets]},
            tags=["customer-fork"] if fork else [],
            **common,
        )
        self.place(self.folder(f"staging-{customer_slug}"), analysis, by=builder)

        dashboards = [(Environment.PROD, f"{customer_slug}-{line.slug}", "", "production")]
        if customer_slug in line.uat:
            dashboards.append((Environment.STAGING, f"{customer_slug}-{line.slug}-uat", " (UAT)", "staging"))
        for environment, slug, suffix, folder in dashboards:
            dashboard_arn = arn("dashboard", slug)
            dashboard_age = max(age - self.rng.randint(1, 6), (line.release or 0) + 3 if upgraded else 2)
            version = 2 if upgraded else 1
            attributes: dict[str, Any] = {
                "arn": dashboard_arn,
                "published_version": version,
                "url": f"https://eu-west-1.quicksight.aws.amazon.com/sn/dashboards/{slug}",
                "sheets": [*line.sheets],
            }
            own = f"{customer_slug}-{line.slug}" if fork else line.slug
            attributes["source_template"] = template_arn(own, 1 if fork else version)
            changes = []
            if upgraded:
                republished = {**attributes, "published_version": 1}
                if not fork:
                    republished["source_template"] = template_arn(line.slug)
                changes.append(Change(line.release - 2, reviewer, {"version": 1, "attributes": republished}))
            last = changes[-1].days_ago if changes else dashboard_age
            if self.rng.random() < 0.6 and last > 2:
                changes.append(
                    Change(
                        self.rng.randint(1, min(last - 1, 60)),
                        builder if changes else reviewer,
                        {"description": f"{line.name} for {customer.name}."},
                    )
                )
            dashboard = self.put(
                kind=AssetKind.DASHBOARD,
                external_id=dashboard_arn,
                name=f"{customer.name} {line.name}{suffix}",
                by=builder,
                age=dashboard_age,
                changes=changes,
                description=(
                    f"{line.name} for {customer.name}, published from "
                    + ("the template of their forked analysis." if fork else f"the {line.name} template.")
                ),
                environment=environment,
                version=version,
                attributes=attributes,
                tags=["uat"] if environment == Environment.STAGING else [],
                **common,
            )
            self.place(self.folder(f"{folder}-{customer_slug}"), dashboard, by=builder)
            if environment != Environment.PROD:
                continue
            for visual_name, visual_type in line.visuals[:3]:
                visual = self.put(
                    kind=AssetKind.VISUAL,
                    external_id=f"{dashboard_arn}/visual/{slugify(visual_name)}",
                    name=visual_name,
                    by=builder,
                    age=dashboard_age,
                    description=f"{visual_type.title()} visual on the {dashboard.name} dashboard.",
                    environment=environment,
                    attributes={"visual_type": visual_type},
                    **common,
                )
                self.place(self.folder(f"{folder}-{customer_slug}"), visual, by=builder)

    def _extras(self) -> None:
        """An analyst's own analysis, an archived dashboard and a deleted one: what a real catalog also holds."""
        st_aidans = self.customers["st-aidans-hospital"]
        ana_arn = arn("analysis", "ana-bed-occupancy-deep-dive")
        sandbox = self.put(
            kind=AssetKind.ANALYSIS,
            external_id=ana_arn,
            name="Bed occupancy deep-dive",
            by="ana",
            age=50,
            changes=[Change(12, "ana", {"name": "Untitled analysis"})],
            description="Why St Aidan's surgical wards run above 95% on Mondays.",
            owner=self.users["ana"],
            owner_group=self.groups["healthcare-analysts"],
            business_unit=st_aidans.business_unit,
            customer=st_aidans,
            product_line=self.product_lines["patient-flow"],
            environment=Environment.DEV,
            attributes={"arn": ana_arn, "is_reference": False, "sheets": ["Sheet 1"]},
        )
        self.place(self.folder("development-sandbox"), sandbox, by="ana")

        for customer_slug, line_slug, slug, name, age, retired_days_ago, by, status, _ in RETIRED_DASHBOARDS:
            customer = self.customers[customer_slug]
            dashboard_arn = arn("dashboard", f"{customer_slug}-{slug}")
            dashboard = self.put(
                kind=AssetKind.DASHBOARD,
                external_id=dashboard_arn,
                name=f"{name} ({customer.name})",
                by="lucas",
                age=age,
                changes=[Change(retired_days_ago, by, {"status": AssetStatus.ACTIVE, "tags": []})],
                description=f"Replaced by the {self.product_lines[line_slug].name} dashboard.",
                owner=self.users["lucas"],
                owner_group=self.groups["bi-developers"],
                business_unit=customer.business_unit,
                customer=customer,
                product_line=self.product_lines[line_slug],
                environment=Environment.PROD,
                status=status,
                attributes={"arn": dashboard_arn, "published_version": 3},
                tags=["deprecated"],
            )
            self.place(self.folder(f"production-{customer_slug}"), dashboard, by="lucas")

    def _other_developer(self, username: str) -> str:
        return self.rng.choice([name for name in BI_DEVELOPERS if name != username])

    # --- lineage -------------------------------------------------------------------------------------------------

    def link(
        self,
        source: Asset,
        target: Asset,
        kind: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        release: Release | None = None,
    ) -> Edge | None:
        """Records source -kind-> target from `since` (by default: once both existed) until `until` (open if None).

        Written once: when an edge of this kind already joins the two assets, open or ended, it is left as it is, so a
        rerun adds nothing and a relationship someone ended in the app stays ended. Returns the new edge, if any.
        """
        if (source.pk, target.pk, kind) in self.linked:
            return None
        since = since or max(self.created(source), self.created(target)) + timedelta(minutes=10)
        with self.dated(since, self.history_reason):
            edge, _ = edge_upsert(
                source=source,
                target=target,
                kind=kind,
                actor=self.owner_of(target),
                via=SOURCE,
                valid_from=since,
                release=release,
            )
        self.linked.add((source.pk, target.pk, kind))
        self.edges_created.add(edge.pk)
        self.edges_touched.add(edge.pk)
        if until is not None:
            self.unlink(edge, at=until)
        return edge

    def unlink(self, edge: Edge, *, at: datetime) -> None:
        with self.dated(at, self.history_reason):
            edge_end(edge=edge, actor=self.owner_of(edge.target), via=SOURCE, at=at)
        self.edges_touched.add(edge.pk)

    def owner_of(self, asset: Asset) -> AbstractBaseUser:
        """Who recorded lineage into an asset: its owner, else the data platform team's engineer."""
        return next((user for user in self.users.values() if user.pk == asset.owner_id), self.users["dan"])

    def product(self, slug: str) -> Asset:
        spec = next(spec for spec in DATA_PRODUCTS if spec.slug == slug)
        return self.assets[glue_arn(spec.domain, spec.slug)]

    def dataset(self, slug: str) -> Asset:
        return self.assets[arn("dataset", slug)]

    def seed_lineage(self) -> None:
        """Sources → datasets → reference analyses → templates → customer assets → visuals, the mesh, forks, one past
        release that left a customer behind, relationships ended when assets were retired, and column lineage."""
        self.linked = set(Edge.objects.values_list("source_id", "target_id", "kind"))
        for spec in DATASETS:
            dataset = self.dataset(spec.slug)
            self.link(self.assets[arn("datasource", spec.source)], dataset, EdgeKind.READS_FROM)
            for slug in spec.reads:
                self.link(self.product(slug), dataset, EdgeKind.READS_FROM)
            for slug in spec.derived_from:
                self.link(self.dataset(slug), dataset, EdgeKind.DERIVED_FROM)
        for product_spec in DATA_PRODUCTS:
            for slug in product_spec.derived_from:
                self.link(self.product(slug), self.product(product_spec.slug), EdgeKind.DERIVED_FROM)
        for line in PRODUCT_LINES:
            self._line_lineage(line)
        self._extras_lineage()
        self._column_lineage()
        ended = Edge.objects.filter(pk__in=self.edges_touched, valid_to__isnull=False).count()
        self.say(
            f"seeding lineage... {len(self.edges_created)} edges ({ended} ended), "
            f"{len(self.column_edges_created)} column edges, {self.releases_created} releases"
        )

    def _line_lineage(self, line: ProductLineSpec) -> None:
        reference_arn = arn("analysis", f"{line.slug}-reference")
        reference = self.assets[reference_arn]
        template = self.assets[template_arn(line.slug)]
        datasets = [
            self.dataset(spec.slug)
            for spec in DATASETS
            if spec.product_line == line.slug and spec.status == AssetStatus.ACTIVE
        ]
        for dataset in datasets:
            self.link(dataset, reference, EdgeKind.USES_DATASET)
        for visual_name, _ in line.visuals:
            self.link(reference, self.assets[f"{reference_arn}/visual/{slugify(visual_name)}"], EdgeKind.CONTAINS)
        self.link(reference, template, EdgeKind.TEMPLATE_OF)
        for dataset in datasets:
            self.link(dataset, template, EdgeKind.USES_DATASET)

        for customer_slug in line.customers:
            customer = self.customers[customer_slug]
            analysis = self.assets[arn("analysis", f"{customer_slug}-{line.slug}")]
            slugs = [f"{customer_slug}-{line.slug}"] + (
                [f"{customer_slug}-{line.slug}-uat"] if customer_slug in line.uat else []
            )
            dashboards = [self.assets[arn("dashboard", slug)] for slug in slugs]
            for dataset in datasets:
                for asset in (analysis, *dashboards):
                    self.link(dataset, asset, EdgeKind.USES_DATASET)
            if customer_slug in line.forks:
                # as a fork is made: forked from the base, with its own template that the customer's dashboards use
                self.link(reference, analysis, EdgeKind.FORKED_FROM)
                source = self._fork_template(line, customer, analysis)
                self.link(analysis, source, EdgeKind.TEMPLATE_OF)
                for dataset in datasets:
                    self.link(dataset, source, EdgeKind.USES_DATASET)
                made = dashboards
            else:
                source, made = template, [analysis, *dashboards]
            for asset in made:
                self.link(source, asset, EdgeKind.CREATED_FROM)
            for dashboard in dashboards:
                if dashboard.environment == Environment.PROD:
                    for visual_name, _ in line.visuals[:3]:
                        visual = self.assets[f"{dashboard.external_id}/visual/{slugify(visual_name)}"]
                        self.link(dashboard, visual, EdgeKind.CONTAINS)
        if line.release:
            self._release(line, reference=reference, previous=template, datasets=datasets)

    def _fork_template(self, line: ProductLineSpec, customer: Customer, fork: Asset) -> Asset:
        external_id = template_arn(f"{customer.slug}-{line.slug}")
        owner = self.owner_of(fork)
        template = self.put(
            kind=AssetKind.TEMPLATE,
            external_id=external_id,
            name=f"{customer.name} {line.name} template",
            by=owner.get_username(),
            age=(self.now.date() - self.created(fork).date()).days,  # the day the fork was made, after it
            not_before=self.created(fork) + timedelta(minutes=20),
            description=f"Made from {customer.name}'s fork of the {line.name} reference analysis for their dashboards.",
            owner=owner,
            owner_group=self.groups["bi-developers"],
            business_unit=customer.business_unit,
            customer=customer,
            product_line=self.product_lines[line.slug],
            environment=Environment.PROD,
            version=1,
            attributes={"arn": external_id, "source_analysis": fork.external_id, "aliases": ["live"]},
            tags=["certified"],
        )
        self.place(self.folder(f"production-{customer.slug}"), template, by=owner.get_username())
        return template

    def _release(self, line: ProductLineSpec, *, reference: Asset, previous: Asset, datasets: list[Asset]) -> None:
        """Version 2 of the line, released `line.release` days ago, written as `lineage.services.release_apply` writes
        a release, but dated then: a new template, and every customer asset on version 1 at the time repointed to it.
        Customers who came later on version 1 (`line.lagging`) stay behind."""
        lead = self.users[line.lead]
        bumped = (
            Asset.history.filter(id=reference.pk, version__gte=2)
            .order_by("history_date")
            .values_list("history_date", flat=True)
            .first()
        ) or self.now - timedelta(days=line.release or 0)
        external_id = template_arn(line.slug, 2)
        template = self.put(
            kind=AssetKind.TEMPLATE,
            external_id=external_id,
            name=f"{line.name} template v2",
            by=line.lead,
            age=line.release or 0,
            not_before=bumped + timedelta(minutes=10),
            description=f"Version 2 of the {line.name} template: adds the {line.release_sheet} sheet.",
            owner=lead,
            owner_group=self.groups["bi-developers"],
            business_unit=reference.business_unit,
            product_line=self.product_lines[line.slug],
            environment=Environment.PROD,
            version=2,
            attributes={"arn": external_id, "source_analysis": reference.external_id, "aliases": ["live"]},
            tags=["certified"],
        )
        self.place(self.folder("production-templates"), template, by=line.lead)
        if Release.objects.filter(reference_analysis=reference, new_template=template).exists():
            return
        at = self.created(template) + timedelta(minutes=10)
        pointed = list(
            Edge.objects.filter(source=previous, kind=EdgeKind.CREATED_FROM, valid_to__isnull=True, valid_from__lt=at)
            .exclude(target__status=AssetStatus.DELETED)
            .select_related("target__customer")
            .order_by("target__customer__name", "target__name", "target_id")
        )
        early = sorted(
            {e.target.customer.name for e in pointed if e.target.customer and e.target.customer.slug in line.lagging}
        )
        if early:
            raise CommandError(f"{', '.join(early)} cannot stay on {previous.name}: they were live before the release")
        release = Release.objects.create(
            reference_analysis=reference,
            previous_template=previous,
            new_template=template,
            description=f"Version 2 adds the {line.release_sheet} sheet; customer analyses and dashboards move to the "
            "new template.",
            created_by=lead,
        )
        with self.dated(at, f"release {release.pk}"):
            self.link(reference, template, EdgeKind.TEMPLATE_OF, since=at, release=release)
            for dataset in datasets:
                self.link(dataset, template, EdgeKind.USES_DATASET, since=at, release=release)
            for edge in Edge.objects.filter(
                source=reference, target=previous, kind=EdgeKind.TEMPLATE_OF, valid_to__isnull=True
            ):
                self.unlink(edge, at=at)
            changes = []
            for edge in pointed:
                self.unlink(edge, at=at)
                new = self.link(template, edge.target, EdgeKind.CREATED_FROM, since=at, release=release)
                if new is not None:
                    changes.append({"asset_id": edge.target_id, "old_edge": edge.pk, "new_edge": new.pk})
        release.changes = changes
        release.save(update_fields=["changes", "updated_at"])
        Release.objects.filter(pk=release.pk).update(created_at=at, updated_at=at)  # back-dating, as for assets
        self.releases_created += 1

    def _extras_lineage(self) -> None:
        """The analyst's sandbox, and relationships that ended when their assets were retired."""
        sandbox = self.assets[arn("analysis", "ana-bed-occupancy-deep-dive")]
        for slug in ("patient-flow-admissions", "patient-flow-ward-occupancy"):
            self.link(self.dataset(slug), sandbox, EdgeKind.USES_DATASET)
        # The Patient Flow reference analysis compared with the 2019 extract until the extract was archived.
        extract = self.dataset("patient-flow-admissions-2019")
        archived = self.last_changed(extract)
        for target in (
            self.assets[arn("analysis", "patient-flow-reference")],
            self.assets[template_arn("patient-flow")],
        ):
            self.link(extract, target, EdgeKind.USES_DATASET, until=archived)
        for customer_slug, _, slug, *_, dataset_slug in RETIRED_DASHBOARDS:
            dashboard = self.assets[arn("dashboard", f"{customer_slug}-{slug}")]
            self.link(self.dataset(dataset_slug), dashboard, EdgeKind.USES_DATASET, until=self.last_changed(dashboard))

    def _column_lineage(self) -> None:
        def asset(key: str) -> Asset:
            kind, slug = key.split(":")
            return self.product(slug) if kind == "product" else self.dataset(slug)

        ends = {key for source, _, target, *_ in COLUMN_LINEAGE for key in (source, target)}
        assets = {key: asset(key) for key in ends}
        columns = {
            (c.asset_id, c.name): c
            for c in Column.objects.filter(asset__in=assets.values()).only("pk", "asset_id", "name")
        }
        linked = set(ColumnEdge.objects.values_list("source_id", "target_id"))
        for source_key, source_name, target_key, target_name, transformation, subtype, description in COLUMN_LINEAGE:
            source, target = assets[source_key], assets[target_key]
            source_column, target_column = columns[source.pk, source_name], columns[target.pk, target_name]
            if (source_column.pk, target_column.pk) in linked:
                continue
            edge, _ = column_edge_upsert(
                source=source_column,
                target=target_column,
                transformation=transformation,
                subtype=subtype,
                description=description,
                actor=self.owner_of(target),
                via=SOURCE,
            )
            linked.add((source_column.pk, target_column.pk))
            self.column_edges_created[edge.pk] = max(self.created(source), self.created(target)) + timedelta(minutes=10)

    def seed_placements(self) -> None:
        shared = self.folder("production-shared-datasets")
        for slug, *_ in DATA_SOURCES:
            self.place(shared, self.assets[arn("datasource", slug)], by="dan")
        for spec in DATASETS:
            self.place(shared, self.assets[arn("dataset", spec.slug)], by=spec.owner)
        self.say(f"seeding folder memberships... {FolderMembership.objects.count()}")

    def seed_grants(self) -> None:
        admin = self.users["admin"]
        for group, permission, domains in DOMAIN_GRANTS:
            for slug in domains:
                grant_set(group=self.groups[group], permission=permission, actor=admin, domain=self.domains[slug])
        for slug, *_ in DATA_SOURCES:
            grant_set(
                group=self.groups["bi-developers"],
                permission=Permission.VIEW,
                actor=admin,
                asset=self.assets[arn("datasource", slug)],
            )
        grant_set(
            group=self.groups["claims-owners"],
            permission=Permission.EDIT,
            actor=admin,
            asset=self.assets[arn("dataset", "claims-insight-claims")],
        )
        # Healthcare analysts see their customers' live dashboards and the data behind them, not the rest.
        analysts = self.groups["healthcare-analysts"]
        healthcare = self.business_units["healthcare"]
        shown = [
            self.folder("production"),
            self.folder("production-shared-datasets"),
            self.folder("development-sandbox"),
        ]
        shown += Asset.objects.filter(
            business_unit=healthcare,
            environment=Environment.PROD,
            status=AssetStatus.ACTIVE,
            kind__in=[AssetKind.DASHBOARD, AssetKind.VISUAL, AssetKind.FOLDER, AssetKind.DATASET],
        ).order_by("pk")
        for asset in shown:
            grant_set(group=analysts, permission=Permission.VIEW, actor=admin, asset=asset)
        self.say(f"seeding grants... {Grant.objects.count()}")

    def backdate(self) -> None:
        """Moves the created/updated times of assets created in this run to their replayed past."""
        # bulk_update writes the given values as they are: auto_now is not applied and no history is recorded.
        assets = list(Asset.objects.filter(pk__in=self.timeline).only("pk"))
        columns = list(Column.objects.filter(asset_id__in=self.timeline).only("pk", "asset_id"))
        for row in [*assets, *columns]:
            row.created_at, row.updated_at = self.timeline[row.pk if isinstance(row, Asset) else row.asset_id]
        Asset.objects.bulk_update(assets, ["created_at", "updated_at"], batch_size=500)
        Column.objects.bulk_update(columns, ["created_at", "updated_at"], batch_size=500)
        # Edges were recorded when they began (their history rows are dated so already) and last touched when they
        # ended; column edges hold from when both assets existed.
        edges = list(Edge.objects.filter(pk__in=self.edges_touched).only("pk", "valid_from", "valid_to", "created_at"))
        for edge in edges:
            if edge.pk in self.edges_created:
                edge.created_at = edge.recorded_at = edge.valid_from
            edge.updated_at = edge.valid_to or edge.valid_from
        Edge.objects.bulk_update(edges, ["created_at", "recorded_at", "updated_at"], batch_size=500)
        column_edges = list(ColumnEdge.objects.filter(pk__in=self.column_edges_created).only("pk"))
        for column_edge in column_edges:
            moment = self.column_edges_created[column_edge.pk]
            column_edge.valid_from = column_edge.recorded_at = column_edge.created_at = column_edge.updated_at = moment
        ColumnEdge.objects.bulk_update(
            column_edges, ["valid_from", "recorded_at", "created_at", "updated_at"], batch_size=500
        )
        self.say(f"back-dating assets created in this run... {len(self.timeline)}")

    def seed_views(self) -> None:
        """Views on about 60% of the assets created in this run, by people who may see them, oldest first."""
        candidates = [u for name, u in self.users.items() if name != "admin"]
        visible = {u.pk: set(Asset.objects.visible_to(u).values_list("pk", flat=True)) for u in candidates}
        rows = Asset.objects.filter(pk__in=self.timeline).values_list("pk", "kind", "status")
        kinds = {pk: (kind, status) for pk, kind, status in rows}
        recorded = 0
        for pk in sorted(self.timeline):
            created_at, updated_at = self.timeline[pk]
            kind, status = kinds[pk]
            if self.rng.random() >= VIEW_PROBABILITY[kind]:
                continue
            viewers = [u.pk for u in candidates if pk in visible[u.pk]] or [self.users["admin"].pk]
            count = min(80, 1 + int(self.rng.expovariate(1 / 6)))
            # Nobody opens an asset after it was archived or deleted.
            end = self.now if status == AssetStatus.ACTIVE else updated_at
            span = (end - created_at).total_seconds()
            moments = sorted(created_at + timedelta(seconds=self.rng.uniform(0, span)) for _ in range(count))
            for moment in moments:
                asset_view_record(asset_id=pk, user_id=self.rng.choice(viewers), viewed_at=moment)
            recorded += count
        self.say(f"seeding views... {recorded}")


class Command(BaseCommand):
    help = "Seeds a demo organisation (BI services firm + insurance data mesh). Safe to run again: changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        started = monotonic()

        def say(message: str) -> None:
            if verbosity:
                self.stdout.write(message)

        seeder = Seeder(now=timezone.now(), say=say)
        pre_create_historical_record.connect(seeder.date_history, weak=False, dispatch_uid="seed_demo_history_date")
        try:
            with transaction.atomic():
                seeder.seed_people()
                seeder.seed_reference()
                seeder.seed_folders()
                seeder.seed_sources_and_datasets()
                seeder.seed_mesh()
                seeder.seed_bi()
                seeder.seed_lineage()
                seeder.seed_placements()
                seeder.seed_grants()
                seeder.backdate()
                seeder.seed_views()
        finally:
            pre_create_historical_record.disconnect(dispatch_uid="seed_demo_history_date")
        if verbosity:
            self._summary(seeder, monotonic() - started)

    def _summary(self, seeder: Seeder, seconds: float) -> None:
        kinds = Counter(Asset.objects.values_list("kind", flat=True))
        history = Asset.history.count() + Column.history.count() + FolderMembership.history.count()
        created = len(seeder.timeline)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {seconds:.1f}s: {created} assets created, {len(seeder.assets) - created} already there."
            )
        )
        self.stdout.write(
            "  assets: "
            + ", ".join(f"{kinds.get(kind, 0)} {kind}" for kind in AssetKind.values)
            + f" ({sum(kinds.values())} in all)"
        )
        self.stdout.write(
            f"  columns: {Column.objects.count()}, folder memberships: {FolderMembership.objects.count()}, "
            f"grants: {Grant.objects.count()}, views: {AssetView.objects.count()}, history rows: {history}"
        )
        self.stdout.write(
            f"  lineage: {Edge.objects.count()} edges ({Edge.objects.filter(valid_to__isnull=True).count()} open), "
            f"{ColumnEdge.objects.count()} column edges, {Release.objects.count()} releases, "
            f"edge history rows: {Edge.history.count()}"
        )
        admin, ana = seeder.users["admin"], seeder.users["ana"]
        total = Asset.objects.visible_to(admin).count()
        seen = Asset.objects.visible_to(ana).count()
        self.stdout.write("Sign in with:")
        for user, password, role in (
            (admin, DEMO_PASSWORDS["admin"], f"superuser, sees all {total} assets"),
            (ana, DEMO_PASSWORDS["ana"], f"analyst in healthcare-analysts, sees {seen} of them"),
        ):
            note = "" if user.check_password(password) else " (already existed with another password; left as is)"
            self.stdout.write(f"  {user.get_username()} / {password}   {role}{note}")
