"""`manage.py seed_demo`: a demo organisation, a BI services firm that also runs an insurance data mesh.

Every asset is written through `catalog.services` (source "import"), keyed on a stable (kind, external_id), and
reference rows, users and groups are fetched or created, so a second run finds everything in place and changes
nothing. Only assets created by this run get a past: their history is dated over the months before today, their
created/updated times are back-dated to match, and some of them get recorded views.

Lineage is written through `lineage.services` the same way: each relationship once, valid from when both ends
existed (or from a dated event: a release, a retirement), so lineage as of any past date and diffs between dates
show what happened; a relationship already on record, open or ended, is left as it is.

Some assets have data, written through `catalog.datasets` as a user would: a sales dataset (50,000 order lines,
refreshed daily) with a dashboard of a table and a pivot over it and row and column rules, and sample data of the mesh
products whose customers, claims, opportunities and encounters overlap as a matching demo needs. The files are made
with DuckDB from hashes of row numbers, so they are the same on every run; only assets without data get them.
"""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from time import monotonic
from typing import Any

import duckdb
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.text import slugify
from simple_history.signals import pre_create_historical_record

from access.choices import AuditSource, Permission
from access.models import AccessRequest, Grant, UserAttribute
from access.services import access_request_create, grant_set
from catalog.choices import AssetKind, AssetStatus, ChangeSource, Environment
from catalog.datasets import column_rule_create, dataset_create, dataset_refresh_run, row_rule_create, visual_save
from catalog.models import (
    Asset,
    AssetView,
    BusinessUnit,
    Column,
    ColumnRule,
    Customer,
    Dataset,
    Domain,
    FolderMembership,
    ProductLine,
    RefreshRun,
    RowRule,
    Snapshot,
    Tag,
    Visual,
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
        sql="SELECT c.claim_id, c.policy_id, p.product AS product_code, c.claim_amount, c.loss_date, c.status,\n"
        "       p.premium AS premium_amount\n"
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
        "       sum(p.premium) AS lifetime_premium\n"
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

# Columns are named as the products' data names them (the sample data attached below has exactly these), so
# attaching the data keeps their descriptions, tags and column lineage.
CUSTOMER_COLUMNS = [
    col("Customer_ID", "varchar(12)", "Mesh-wide customer key, e.g. CUS-00012345.", nullable=False),
    col("First_Name", "varchar(100)", tags=["pii"]),
    col("Last_Name", "varchar(100)", tags=["pii"]),
    col("Email", "varchar(320)", tags=["pii"]),
    col("Phone", "varchar(32)", "E.164 format.", tags=["pii"]),
    col("Date_Of_Birth", "date", tags=["pii"]),
    col("Postcode", "varchar(10)", tags=["pii"]),
    col("Segment", "varchar(20)", "retail, sme or corporate."),
    col("Customer_Since", "date"),
]
CLAIM_COLUMNS = [
    col("Claim_ID", "varchar(16)", "Claim reference, e.g. CLM-2024-004211.", nullable=False),
    col("Cust_Nbr", "varchar(12)", "Customer number as keyed by the claims system (the Customer's Customer_ID)."),
    col("Policy_ID", "varchar(12)", nullable=False),
    col("Claim_Amount", "numeric(12,2)", "Amount claimed, in the policy currency."),
    col("Loss_Date", "date", "Date of the loss event."),
    col("Reported_Date", "date"),
    col("Status", "varchar(12)", "open, settled, rejected or withdrawn."),
    col("Settled_Amount", "numeric(12,2)", "Empty until the claim is settled."),
    col("Adjuster", "varchar(100)"),
]
POLICY_COLUMNS = [
    col("Policy_ID", "varchar(12)", nullable=False),
    col("Customer_ID", "varchar(12)", nullable=False),
    col("Product", "varchar(10)", "MOTOR, HOME, HEALTH, TRAVEL or LIFE."),
    col("Premium", "numeric(10,2)", "Annual premium."),
    col("Start_Date", "date"),
    col("End_Date", "date"),
    col("Status", "varchar(12)"),
    col("Channel", "varchar(20)", "broker, direct or aggregator."),
]
ENCOUNTER_COLUMNS = [
    col("Encounter_ID", "varchar(12)", nullable=False),
    col("Customer_ID", "varchar(12)", "Only when the provider knew the policyholder's customer number."),
    col("Inbound_Email", "varchar(320)", "The patient's email as the provider recorded it.", tags=["pii"]),
    col("Inbound_Phone", "varchar(32)", "The patient's phone as the provider recorded it.", tags=["pii"]),
    col("Provider", "varchar(200)", "Hospital or clinic that billed the encounter."),
    col("Encounter_Date", "date"),
    col("Encounter_Type", "varchar(20)", "inpatient, outpatient or day case."),
    col("Diagnosis_Code", "varchar(8)", "ICD-10 code of the primary diagnosis.", tags=["clinical"]),
    col("Cost", "numeric(10,2)"),
]
OPPORTUNITY_COLUMNS = [
    col("Opportunity_ID", "varchar(12)", nullable=False),
    col("Customer_ID", "varchar(12)", "Empty until the prospect becomes a customer."),
    col("Contact_Email", "varchar(320)", "Who to contact about it: often not the customer's own email.", tags=["pii"]),
    col("Contact_Phone", "varchar(32)", "Who to contact about it: often not the customer's own phone.", tags=["pii"]),
    col("Stage", "varchar(20)", "prospect, quoted, negotiation, won, lost."),
    col("Amount", "numeric(14,2)", "Expected annual premium."),
    col("Close_Date", "date"),
    col("Broker", "varchar(100)"),
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
            Change(120, "maria", {"columns": without(CUSTOMER_COLUMNS, "Segment"), "tags": ["pii"]}),
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
                {"columns": retyped(CLAIM_COLUMNS, Claim_Amount="double precision", Settled_Amount="double precision")},
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
            Change(70, "omar", {"columns": retagged(ENCOUNTER_COLUMNS, Inbound_Phone=[])}),
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
            Change(95, "lena", {"columns": retyped(OPPORTUNITY_COLUMNS, Amount="integer")}),
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
    ("product:claim", "Claim_ID", CLAIMS, "claim_id", DIRECT, "IDENTITY", ""),
    ("product:claim", "Policy_ID", CLAIMS, "policy_id", DIRECT, "IDENTITY", ""),
    ("product:policy", "Policy_ID", CLAIMS, "policy_id", INDIRECT, "JOIN", "Claims are joined to their policy."),
    ("product:policy", "Product", CLAIMS, "product_code", DIRECT, "IDENTITY", ""),
    ("product:claim", "Claim_Amount", CLAIMS, "claim_amount", DIRECT, "IDENTITY", ""),
    ("product:claim", "Loss_Date", CLAIMS, "loss_date", DIRECT, "IDENTITY", ""),
    ("product:claim", "Status", CLAIMS, "status", DIRECT, "IDENTITY", ""),
    ("product:policy", "Premium", CLAIMS, "premium_amount", DIRECT, "IDENTITY", ""),
    ("product:customer", "Customer_ID", CUSTOMER_360, "customer_id", DIRECT, "IDENTITY", ""),
    ("product:customer", "Email", CUSTOMER_360, "email", DIRECT, "IDENTITY", ""),
    ("product:customer", "Postcode", CUSTOMER_360, "postcode", DIRECT, "IDENTITY", ""),
    ("product:policy", "Policy_ID", CUSTOMER_360, "policies_held", DIRECT, "AGGREGATION", "count(DISTINCT Policy_ID)"),
    ("product:policy", "Customer_ID", CUSTOMER_360, "policies_held", INDIRECT, "JOIN", ""),
    ("product:claim", "Claim_ID", CUSTOMER_360, "open_claims", DIRECT, "AGGREGATION", "count(DISTINCT Claim_ID)"),
    ("product:claim", "Status", CUSTOMER_360, "open_claims", INDIRECT, "FILTER", "Only claims with status open."),
    ("product:claim", "Cust_Nbr", CUSTOMER_360, "open_claims", INDIRECT, "JOIN", ""),
    (
        "product:policy",
        "Premium",
        CUSTOMER_360,
        "lifetime_premium",
        DIRECT,
        "AGGREGATION",
        "sum(Premium)",
    ),
    ("product:customer", "Customer_ID", "product:claim", "Cust_Nbr", DIRECT, "IDENTITY", "Keyed by the claims system."),
    ("product:customer", "Customer_ID", "product:policy", "Customer_ID", DIRECT, "IDENTITY", ""),
    ("product:customer", "Customer_ID", "product:sales-opportunity", "Customer_ID", DIRECT, "IDENTITY", "Once won."),
    (
        "product:customer",
        "Customer_ID",
        "product:encounter",
        "Customer_ID",
        DIRECT,
        "IDENTITY",
        "When the provider knew it.",
    ),
    ("product:customer", "Email", "product:encounter", "Inbound_Email", DIRECT, "IDENTITY", ""),
    ("product:customer", "Phone", "product:encounter", "Inbound_Phone", DIRECT, "IDENTITY", ""),
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


# --- Data behind the assets --------------------------------------------------------------------------------------

# A sales dataset with its data (generated, the same on every run), refreshed daily, and a dashboard over it.
SALES_DATASET = "retail-sales"
SALES_DASHBOARD = "sales-performance"
SALES_ROWS = 50_000
SEGMENTS = ["Consumer", "Corporate", "Home Office", "Online"]
# slug, name, spec (catalog.visuals)
SALES_VISUALS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "sales-and-profit-by-category",
        "Sales and profit by category",
        {
            "type": "table",
            "rows": ["Category"],
            "measures": [
                {"field": "Sales", "agg": "sum", "label": "Sales"},
                {"field": "Profit", "agg": "sum", "label": "Profit"},
            ],
            "sort": [{"by": "Sales", "direction": "desc"}],
            "totals": {"rows": True, "grand": True},
        },
    ),
    (
        "profit-by-category-segment-and-ship-mode",
        "Profit by category, segment and ship mode",
        {
            "type": "pivot",
            "rows": ["Category", "Segment"],
            "columns": ["Ship Mode"],
            "measures": [{"field": "Profit", "agg": "sum", "label": "Profit"}],
            "totals": {"rows": True, "columns": True, "grand": True},
        },
    ),
]
# Row rules on the sales data: the segments each group sees (once a dataset has row rules, other readers see no
# rows; staff see all). Columns hidden from groups: (column, group).
SALES_ROW_RULES = [
    ("healthcare-analysts", ["Consumer", "Home Office"]),
    ("bi-developers", SEGMENTS),
    ("sales-owners", SEGMENTS),
]
SALES_HIDDEN_COLUMNS = [("Profit", "sales-owners")]
# Attributes for attribute-based row rules: (username, name, value).
USER_ATTRIBUTES = [
    ("ana", "department", "Healthcare analytics"),
    ("hugo", "department", "Healthcare analytics"),
    ("sam", "department", "Sales"),
    ("lena", "department", "Sales"),
]
# Sample data of the mesh products: how many customers, prospects (opportunities with no customer yet) and
# encounters; the sample was attached this many days ago.
SAMPLE_CUSTOMERS = 3_000
SAMPLE_PROSPECTS = 400
SAMPLE_ENCOUNTERS = 4_000
SAMPLE_AGE = 6
# The relationship of the knowledge graph that lets the enriched view of Customer match encounters.
SALES_OPPORTUNITY_RELATIONSHIP = "hasSalesOpportunity"
FIRST_NAMES = [
    *("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Jack", "Ivy", "Leo", "Freya"),
    *("Arthur", "Lily", "Muhammad", "Florence", "Oscar", "Sophia", "Charlie", "Grace", "Jacob", "Evie"),
    *("Thomas", "Ella", "Henry", "Poppy", "Alfie", "Aisha", "Theo", "Priya", "Mateo", "Zofia", "Kwame", "Mei"),
]
LAST_NAMES = [
    *("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright"),
    *("Robinson", "Walker", "Thompson", "Evans", "Khan", "Hughes", "Green", "Edwards", "Hall", "Wood"),
    *("Harris", "Lewis", "Martin", "Jackson", "Clarke", "Nowak", "Okafor", "Murphy", "Campbell", "Kaur", "Chen"),
]

# Every random choice is a hash of the row number and a name, so the files are the same on every run
# (whatever the number of threads). draw(i, 'x') is uniform in [0, 1); pick() takes an item of a list by a draw.
_MACROS = """
CREATE MACRO draw(i, salt) AS (hash(i, salt) % 1000003) / 1000003.0;
CREATE MACRO pick(items, x) AS items[1 + floor(x * len(items))::INTEGER];
CREATE MACRO normal(i, salt) AS  -- standard normal (Box-Muller)
    sqrt(-2 * ln(greatest(draw(i, salt || '1'), 1e-9))) * cos(2 * pi() * draw(i, salt || '2'));
"""

_SALES_SQL = """
WITH drawn AS (
    SELECT i,
        CASE WHEN draw(i, 'category') < 0.21 THEN 'Furniture' WHEN draw(i, 'category') < 0.60 THEN 'Office Supplies'
             WHEN draw(i, 'category') < 0.86 THEN 'Technology' ELSE 'Auto' END AS category,
        CASE WHEN draw(i, 'segment') < 0.42 THEN 'Consumer' WHEN draw(i, 'segment') < 0.70 THEN 'Corporate'
             WHEN draw(i, 'segment') < 0.86 THEN 'Home Office' ELSE 'Online' END AS segment,
        CASE WHEN draw(i, 'ship') < 0.15 THEN 'First Class' WHEN draw(i, 'ship') < 0.35 THEN 'Second Class'
             WHEN draw(i, 'ship') < 0.95 THEN 'Standard Class' ELSE 'Same Day' END AS ship_mode,
        -- two years of orders, growing: later days are drawn more often
        DATE '2023-01-01' + floor(pow(draw(i, 'day'), 0.85) * 731)::INTEGER AS order_date,
        CASE WHEN draw(i, 'discount') < 0.48 THEN 0 WHEN draw(i, 'discount') < 0.68 THEN 0.1
             WHEN draw(i, 'discount') < 0.84 THEN 0.2 WHEN draw(i, 'discount') < 0.95 THEN 0.3 ELSE 0.5 END
            AS discount
    FROM range(?) t(i)
), priced AS (
    SELECT *,
        round(CASE category WHEN 'Furniture' THEN 320 WHEN 'Office Supplies' THEN 55 WHEN 'Technology' THEN 380
                            ELSE 160 END * exp(0.8 * normal(i, 'price')) * (1 - discount), 2) AS sales,
        CASE category WHEN 'Furniture' THEN 0.10 WHEN 'Office Supplies' THEN 0.24 WHEN 'Technology' THEN 0.21
                      ELSE 0.14 END AS margin
    FROM drawn
)
SELECT category AS "Category", segment AS "Segment", ship_mode AS "Ship Mode", order_date AS "Order Date",
    sales::DECIMAL(12, 2) AS "Sales",
    -- heavy discounts lose money
    round(sales * (margin - 1.1 * discount + 0.3 * (draw(i, 'margin') - 0.5)), 2)::DECIMAL(12, 2) AS "Profit"
FROM priced
ORDER BY order_date, i
"""

# The mesh samples. Claims are made on policies, so every Claim.Cust_Nbr is a Customer.Customer_ID. Opportunities
# of customers carry other contact details than the customer record (a work email, a landline); prospects have no
# customer yet. Encounters match customers in four ways, each from a quarter or so of them: by Customer_ID; only by
# an email or phone of the customer record; only by an email or phone of one of the customer's opportunities; not
# at all. Each kind of contact has numbers of its own (+447 customers, +442 opportunities, +443 prospects, +441
# walk-in patients), so no match happens by accident.
_CUSTOMER_SQL = """
CREATE TABLE customer AS
SELECT n,
    printf('CUS-%08d', 10000 + n) AS "Customer_ID",
    pick(first, draw(n, 'first')) AS "First_Name",
    pick(last, draw(n, 'last')) AS "Last_Name",
    lower(pick(first, draw(n, 'first')) || '.' || pick(last, draw(n, 'last'))) || n || '@'
        || pick(['mail.example.com', 'post.example.net', 'inbox.example.org'], draw(n, 'domain')) AS "Email",
    '+447' || (100000000 + 37 * n)::VARCHAR AS "Phone",
    DATE '1945-01-01' + floor(draw(n, 'born') * 20000)::INTEGER AS "Date_Of_Birth",
    pick(['LS', 'M', 'B', 'BS', 'EH', 'G', 'CF', 'NE', 'SW', 'N', 'OX', 'CB'], draw(n, 'area'))
        || (1 + floor(draw(n, 'district') * 20))::INTEGER || ' ' || floor(draw(n, 'sector') * 10)::INTEGER
        || pick(['AB', 'DE', 'FG', 'HJ', 'LN', 'PQ', 'RT', 'UW', 'XY'], draw(n, 'unit')) AS "Postcode",
    CASE WHEN draw(n, 'segment') < 0.78 THEN 'retail' WHEN draw(n, 'segment') < 0.95 THEN 'sme' ELSE 'corporate' END
        AS "Segment",
    greatest(DATE '2012-01-01' + floor(draw(n, 'since') * 4500)::INTEGER, "Date_Of_Birth" + INTERVAL 18 YEAR)::DATE
        AS "Customer_Since"
FROM names, range(1, ? + 1) t(n)
"""
_POLICY_SQL = """
CREATE TABLE policy AS
WITH drawn AS (
    SELECT c.n, j, c."Customer_ID", greatest(c."Customer_Since", DATE '2019-01-01') AS earliest,
        draw(c.n * 10 + j, 'product') AS p
    FROM customer c, range(3) k(j)
    WHERE j < 1 + floor(draw(c.n, 'policies') * 2.4)
), numbered AS (
    SELECT *, row_number() OVER (ORDER BY n, j) AS m,
        CASE WHEN p < 0.36 THEN 'MOTOR' WHEN p < 0.64 THEN 'HOME' WHEN p < 0.84 THEN 'HEALTH'
             WHEN p < 0.95 THEN 'TRAVEL' ELSE 'LIFE' END AS product
    FROM drawn
), started AS (
    SELECT *, earliest + floor(draw(m, 'start') * (DATE '2025-06-30' - earliest))::INTEGER AS start FROM numbered
)
SELECT m AS n,
    printf('POL-%08d', 500000 + m) AS "Policy_ID",
    "Customer_ID",
    product AS "Product",
    round(CASE product WHEN 'MOTOR' THEN 620 WHEN 'HOME' THEN 340 WHEN 'HEALTH' THEN 1150 WHEN 'TRAVEL' THEN 90
                       ELSE 480 END * (0.6 + 0.9 * draw(m, 'premium')), 2)::DECIMAL(10, 2) AS "Premium",
    start AS "Start_Date",
    (start + INTERVAL 1 YEAR)::DATE AS "End_Date",
    CASE WHEN draw(m, 'cancelled') < 0.05 THEN 'cancelled'
         WHEN start + INTERVAL 1 YEAR < DATE '2025-06-30' THEN 'lapsed' ELSE 'active' END AS "Status",
    CASE WHEN draw(m, 'channel') < 0.45 THEN 'broker' WHEN draw(m, 'channel') < 0.8 THEN 'direct' ELSE 'aggregator' END
        AS "Channel"
FROM started
"""
_CLAIM_SQL = """
CREATE TABLE claim AS
WITH drawn AS (
    SELECT p.*, j FROM policy p, range(2) k(j)
    WHERE draw(p.n, 'claimed') < CASE j WHEN 0 THEN 0.45 ELSE 0.1 END
), numbered AS (
    SELECT *, row_number() OVER (ORDER BY n, j) AS q,
        "Start_Date" + floor(draw(n * 2 + j, 'loss') * (least("End_Date", DATE '2025-06-30') - "Start_Date"))::INTEGER
            AS loss
    FROM drawn
), amounts AS (
    SELECT *,
        round(CASE "Product" WHEN 'MOTOR' THEN 2400 WHEN 'HOME' THEN 3100 WHEN 'HEALTH' THEN 1800
                             WHEN 'TRAVEL' THEN 650 ELSE 25000 END * exp(0.9 * normal(q, 'amount')), 2) AS amount,
        draw(q, 'status') AS s
    FROM numbered
)
SELECT q AS n,
    printf('CLM-%d-%06d', year(loss), q) AS "Claim_ID",
    "Customer_ID" AS "Cust_Nbr",
    "Policy_ID",
    amount::DECIMAL(12, 2) AS "Claim_Amount",
    loss AS "Loss_Date",
    loss + floor(draw(q, 'reported') * 21)::INTEGER AS "Reported_Date",
    CASE WHEN s < 0.62 THEN 'settled' WHEN s < 0.82 THEN 'open' WHEN s < 0.94 THEN 'rejected' ELSE 'withdrawn' END
        AS "Status",
    CASE WHEN s < 0.62 THEN round(amount * (0.55 + 0.45 * draw(q, 'settled')), 2)::DECIMAL(12, 2) END
        AS "Settled_Amount",
    pick(['A. Morgan', 'B. Osei', 'C. Lindgren', 'D. Farrell', 'E. Nakamura', 'F. Byrne'], draw(q, 'adjuster'))
        AS "Adjuster"
FROM amounts
"""
_OPPORTUNITY_SQL = """
CREATE TABLE opportunity AS
WITH drawn AS (
    SELECT c.n, j, c."Customer_ID", c."First_Name", c."Last_Name" FROM customer c, range(2) k(j)
    WHERE draw(c.n, 'opportunities') < CASE j WHEN 0 THEN 0.65 ELSE 0.2 END
    UNION ALL
    SELECT -p, 0, NULL, pick(first, draw(-p, 'first')), pick(last, draw(-p, 'last')) FROM names, range(1, ? + 1) t(p)
), numbered AS (
    SELECT *, row_number() OVER (ORDER BY n < 0, abs(n), j) AS o FROM drawn
)
SELECT o AS n,
    printf('OPP-%08d', 700000 + o) AS "Opportunity_ID",
    "Customer_ID",
    CASE WHEN n < 0 THEN lower("First_Name" || '.' || "Last_Name") || '.' || -n || '@mail.example.com'
         WHEN j = 0 THEN lower(left("First_Name", 1) || "Last_Name") || n || '@'
             || pick(['northwind.example', 'contoso.example', 'fabrikam.example', 'adatum.example'], draw(n, 'work'))
         ELSE lower("First_Name" || '.' || "Last_Name") || '.' || n || '@altmail.example.net' END AS "Contact_Email",
    CASE WHEN n < 0 THEN '+443' || (100000000 + 41 * -n)::VARCHAR ELSE '+442' || (100000000 + 10 * n + j)::VARCHAR END
        AS "Contact_Phone",
    CASE WHEN draw(o, 'stage') < 0.15 THEN 'prospect' WHEN draw(o, 'stage') < 0.35 THEN 'quoted'
         WHEN draw(o, 'stage') < 0.5 THEN 'negotiation' WHEN draw(o, 'stage') < 0.8 THEN 'won' ELSE 'lost' END
        AS "Stage",
    round(200 + 2800 * draw(o, 'amount'), 2)::DECIMAL(14, 2) AS "Amount",
    DATE '2023-01-01' + floor(draw(o, 'close') * 900)::INTEGER AS "Close_Date",
    pick(['Direct', 'Harbour Brokers', 'Lakeside Insurance Services', 'Pennine Partners', 'Thames Cover'],
         draw(o, 'broker')) AS "Broker"
FROM numbered
"""
_ENCOUNTER_SQL = """
CREATE TABLE encounter AS
WITH drawn AS (
    SELECT e,
        CASE WHEN draw(e, 'match') < 0.30 THEN 'id' WHEN draw(e, 'match') < 0.55 THEN 'contact'
             WHEN draw(e, 'match') < 0.80 THEN 'alternate' ELSE 'none' END AS how,
        1 + floor(draw(e, 'who') * (SELECT count(*) FROM customer))::INTEGER AS who,
        1 + floor(draw(e, 'which') * (SELECT count(*) FROM opportunity WHERE "Customer_ID" IS NOT NULL))::INTEGER
            AS which,
        draw(e, 'via') AS via  -- email, phone or both
    FROM range(1, ? + 1) t(e)
), alternates AS (
    SELECT row_number() OVER (ORDER BY n) AS which, "Contact_Email", "Contact_Phone"
    FROM opportunity WHERE "Customer_ID" IS NOT NULL
)
SELECT d.e AS n,
    printf('ENC-%08d', 900000 + d.e) AS "Encounter_ID",
    CASE WHEN how = 'id' THEN c."Customer_ID" END AS "Customer_ID",
    CASE how WHEN 'id' THEN CASE WHEN via < 0.5 THEN c."Email" END
             WHEN 'contact' THEN CASE WHEN via < 0.7 THEN c."Email" END
             WHEN 'alternate' THEN CASE WHEN via < 0.7 THEN a."Contact_Email" END
             ELSE CASE WHEN via < 0.8 THEN 'patient' || d.e || '@walkin.example.com' END END AS "Inbound_Email",
    CASE how WHEN 'id' THEN CASE WHEN via >= 0.6 THEN c."Phone" END
             WHEN 'contact' THEN CASE WHEN via >= 0.4 THEN c."Phone" END
             WHEN 'alternate' THEN CASE WHEN via >= 0.4 THEN a."Contact_Phone" END
             ELSE CASE WHEN via >= 0.5 THEN '+441' || (100000000 + 43 * d.e)::VARCHAR END END AS "Inbound_Phone",
    pick(['Northwind Health', 'St Aidan''s Hospital Trust', 'Riverside Clinics', 'Meridian Care Group'],
         draw(d.e, 'provider')) AS "Provider",
    DATE '2024-01-01' + floor(draw(d.e, 'date') * 540)::INTEGER AS "Encounter_Date",
    CASE WHEN draw(d.e, 'type') < 0.6 THEN 'outpatient' WHEN draw(d.e, 'type') < 0.85 THEN 'day case'
         ELSE 'inpatient' END AS "Encounter_Type",
    pick(['J06.9', 'M54.5', 'I10', 'E11.9', 'K21.9', 'S52.5', 'R07.4', 'N39.0', 'J45.9', 'F41.1'], draw(d.e, 'dx'))
        AS "Diagnosis_Code",
    round(CASE WHEN draw(d.e, 'type') < 0.6 THEN 180 WHEN draw(d.e, 'type') < 0.85 THEN 900 ELSE 4200 END
          * (0.5 + draw(d.e, 'cost')), 2)::DECIMAL(10, 2) AS "Cost"
FROM drawn d
JOIN customer c ON c.n = d.who
JOIN alternates a ON a.which = d.which
"""


def _copy(con: duckdb.DuckDBPyConnection, select: str, path: Path) -> Path:
    """Writes the rows of `select` to a Parquet file (COPY takes no parameter for its target: quoted here)."""
    target = str(path).replace("'", "''")
    con.execute(f"COPY ({select}) TO '{target}' (FORMAT parquet)")
    return path


def sales_write(folder: Path, *, rows: int = SALES_ROWS) -> Path:
    """Order lines of a retail business over two years (2023-2024) as Parquet: Category, Segment, Ship Mode,
    Order Date, Sales and Profit (negative on heavy discounts)."""
    with duckdb.connect() as con:
        con.execute(_MACROS)
        con.execute(f"CREATE TABLE sales AS {_SALES_SQL}", [rows])
        return _copy(con, "SELECT * FROM sales", folder / "retail-sales.parquet")


def samples_write(
    folder: Path,
    *,
    customers: int = SAMPLE_CUSTOMERS,
    prospects: int = SAMPLE_PROSPECTS,
    encounters: int = SAMPLE_ENCOUNTERS,
) -> dict[str, Path]:
    """Sample data of the five mesh products as Parquet files, by product slug; columns as the catalog names them."""
    with duckdb.connect() as con:
        con.execute(_MACROS)
        con.execute(
            "CREATE TABLE names AS SELECT ?::VARCHAR[] AS first, ?::VARCHAR[] AS last", [FIRST_NAMES, LAST_NAMES]
        )
        con.execute(_CUSTOMER_SQL, [customers])
        con.execute(_POLICY_SQL)
        con.execute(_CLAIM_SQL)
        con.execute(_OPPORTUNITY_SQL, [prospects])
        con.execute(_ENCOUNTER_SQL, [encounters])
        tables = {"customer": "customer", "claim": "claim", "policy": "policy", "encounter": "encounter"}
        tables["sales-opportunity"] = "opportunity"
        # n numbers the rows of every table: it orders the file and is left out of it
        return {
            slug: _copy(con, f"SELECT * EXCLUDE (n) FROM {table} ORDER BY n", folder / f"{slug}.parquet")
            for slug, table in tables.items()
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
    data_assets: list[Asset] = field(default_factory=list)  # the sales dataset, its dashboard and visuals
    files: list[Path] = field(default_factory=list)  # uploads and snapshots written in this run

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
        existing = Asset.objects.filter(kind=kind, external_id=external_id).first()
        if existing is not None:
            if kind in (AssetKind.DATASET, AssetKind.DATA_PRODUCT) and Dataset.objects.filter(asset=existing).exists():
                # Its data decides its columns and row count (each refresh writes them), not the catalogue here.
                final.pop("columns", None)
                if "row_count" in existing.attributes and "attributes" in final:
                    final["attributes"] = {**final["attributes"], "row_count": existing.attributes["row_count"]}
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
        # Customers who test in UAT get their production dashboard promoted from the staging one.
        for line in PRODUCT_LINES:
            for customer_slug in line.uat:
                staging = self.assets[arn("dashboard", f"{customer_slug}-{line.slug}-uat")]
                production = self.assets[arn("dashboard", f"{customer_slug}-{line.slug}")]
                self.link(staging, production, EdgeKind.PROMOTED_FROM)

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

    # --- data ----------------------------------------------------------------------------------------------------

    def seed_data(self) -> None:
        """Data behind some assets: the sales dataset (SPICE, refreshed daily) with a dashboard of a table and a pivot
        over it and row and column rules, and sample data of the mesh products.

        Files are generated (DuckDB, the same on every run) only for what has no data yet, uploaded through
        `catalog.datasets`, and refreshed here, inside the seed's transaction: a refresh is queued for after the
        commit, and by then it has run, so the queued task finds nothing to do."""
        started = monotonic()
        models = (Dataset, Snapshot, RefreshRun, Visual, RowRule, ColumnRule, UserAttribute)
        before = [model.objects.count() for model in models]
        edges = len(self.edges_created)
        attached: list[str] = []
        with tempfile.TemporaryDirectory(prefix="seed-demo-") as folder:
            sales = self._sales_dataset(Path(folder), attached)
            self._samples(Path(folder), attached)
        self._sales_dashboard(sales)
        for group, segments in SALES_ROW_RULES:
            if not RowRule.objects.filter(dataset=sales, column="Segment", group=self.groups[group]).exists():
                row_rule_create(dataset=sales, column="Segment", group=self.groups[group], allowed_values=segments)
        for column, group in SALES_HIDDEN_COLUMNS:
            column_rule_create(dataset=sales, column=column, group=self.groups[group])
        for username, name, value in USER_ATTRIBUTES:
            UserAttribute.objects.get_or_create(user=self.users[username], name=name, defaults={"value": value})
        datasets, snapshots, runs, visuals, row_rules, column_rules, attributes = (
            model.objects.count() - count for model, count in zip(models, before, strict=True)
        )
        self.say(
            f"seeding data... {datasets} datasets, {snapshots} snapshots ({runs} refresh runs), {visuals} visuals, "
            f"{row_rules} row rules, {column_rules} column rules, {attributes} user attributes, "
            f"{len(self.edges_created) - edges} edges, in {monotonic() - started:.1f}s"
        )
        for line in attached:
            self.say(f"  {line}")

    def _attach(
        self, path: Path, *, by: str, at: datetime | None, asset: Asset, attached: list[str], **fields: Any
    ) -> Dataset:
        """Uploads the file as the data of the asset (a dataset or data product) and runs its first refresh now.

        The history both write is dated `at` (the refresh five minutes later), or now when `at` is None. Says what
        it did in `attached`."""
        with path.open("rb") as handle, self.dated(at):
            dataset = dataset_create(actor=self.users[by], upload=File(handle, name=path.name), asset=asset, **fields)
        self.files.append(Path(dataset.upload.path))
        queued = dataset.refreshes.get(status=RefreshRun.Status.QUEUED)
        refreshed = at + timedelta(minutes=5) if at is not None else None
        with self.dated(refreshed):
            run = dataset_refresh_run(refresh_id=queued.pk)
        if run is None or run.snapshot is None:
            raise CommandError(f"the first refresh of {dataset.asset.name} failed: {run.error if run else 'not run'}")
        self.files.append(Path(settings.MEDIA_ROOT) / run.snapshot.path)
        if at is not None and refreshed is not None:
            self.timeline[dataset.asset_id] = (self.timeline.get(dataset.asset_id, (at, at))[0], refreshed)
        schedule = "on demand"
        if dataset.refresh_interval != Dataset.Interval.NONE:
            schedule = f"{dataset.refresh_interval} ({dataset.refresh_time_zone})"
        attached.append(f"{dataset.asset.name}: {run.rows:,} rows in snapshot {run.snapshot_id}, refreshed {schedule}")
        return dataset

    def _sales_dataset(self, folder: Path, attached: list[str]) -> Dataset:
        """The sales dataset: an asset like the others, then its data, uploaded ten minutes after it was made."""
        external_id = arn("dataset", SALES_DATASET)
        asset = self.put(
            kind=AssetKind.DATASET,
            external_id=external_id,
            name="Retail sales",
            by="lucas",
            age=45,
            description="Order lines of a retail business over two years, by category, customer segment and ship "
            "mode: the sample behind the Sales performance dashboard. Refreshed every night.",
            owner=self.users["lucas"],
            owner_group=self.groups["bi-developers"],
            business_unit=self.business_units["commercial"],
            product_line=self.product_lines["sales-performance"],
            environment=Environment.PROD,
            attributes={"arn": external_id, "import_mode": Dataset.ImportMode.SPICE},
            tags=["certified"],
        )
        dataset = Dataset.objects.filter(asset=asset).first()
        if dataset is None:
            made = self.created(asset) + timedelta(minutes=10) if asset.pk in self.timeline else None
            dataset = self._attach(
                sales_write(folder),
                by="lucas",
                at=made,
                asset=asset,
                attached=attached,
                name=asset.name,
                refresh_interval=Dataset.Interval.DAILY,
                refresh_time_zone="Europe/London",
            )
        self.data_assets.append(asset)
        self.place(self.folder("production-shared-datasets"), asset, by="lucas")
        return dataset

    def _samples(self, folder: Path, attached: list[str]) -> None:
        """Sample data of each mesh product that has none yet, attached by its owner."""
        missing = [spec for spec in DATA_PRODUCTS if not Dataset.objects.filter(asset=self.product(spec.slug)).exists()]
        if not missing:
            return
        files = samples_write(folder)
        for spec in missing:
            product = self.product(spec.slug)
            at = None
            if product.pk in self.timeline:  # made in this run: its sample came after its last change
                at = max(self.at(SAMPLE_AGE), self.last_changed(product) + timedelta(minutes=10))
            self._attach(files[spec.slug], by=spec.owner, at=at, asset=product, attached=attached, name=product.name)

    def _sales_dashboard(self, sales: Dataset) -> None:
        """The Sales performance dashboard: a table and a pivot over the sales dataset, with their lineage."""
        lucas = self.users["lucas"]
        common = {
            "owner": lucas,
            "owner_group": self.groups["bi-developers"],
            "business_unit": self.business_units["commercial"],
            "product_line": self.product_lines["sales-performance"],
            "environment": Environment.PROD,
        }
        dashboard_arn = arn("dashboard", SALES_DASHBOARD)
        dashboard = self.put(
            kind=AssetKind.DASHBOARD,
            external_id=dashboard_arn,
            name="Sales performance",
            by="lucas",
            age=40,
            not_before=self.created(sales.asset) + timedelta(hours=1),
            description="Sales and profit of the retail sample by category, customer segment and ship mode.",
            attributes={
                "arn": dashboard_arn,
                "published_version": 1,
                "url": f"https://eu-west-1.quicksight.aws.amazon.com/sn/dashboards/{SALES_DASHBOARD}",
                "sheets": ["Overview"],
            },
            tags=["certified"],
            **common,
        )
        production = self.folder("production")
        self.place(production, dashboard, by="lucas")
        self.data_assets.append(dashboard)
        for slug, name, spec in SALES_VISUALS:
            external_id = f"{dashboard_arn}/visual/{slug}"
            visual = Asset.objects.filter(kind=AssetKind.VISUAL, external_id=external_id).first()
            if visual is None:
                moment = self.created(dashboard) + timedelta(minutes=5)
                with self.dated(moment):
                    visual = visual_save(
                        actor=lucas,
                        dataset=sales,
                        spec=spec,
                        name=name,
                        external_id=external_id,
                        source=SOURCE,
                        description=f"{spec['type'].title()} visual on the Sales performance dashboard.",
                        **common,
                    ).asset
                self.timeline[visual.pk] = (moment, moment)
            self.assets[external_id] = visual
            self.data_assets.append(visual)
            self.place(production, visual, by="lucas")
            self.link(dashboard, visual, EdgeKind.CONTAINS)
        self.link(sales.asset, dashboard, EdgeKind.USES_DATASET)

    def discard_files(self) -> None:
        """Removes the uploads and snapshots written by a run whose transaction was rolled back."""
        for path in self.files:
            path.unlink(missing_ok=True)

    def seed_relationships(self) -> None:
        """The knowledge graph of the mesh: Customer hasSalesOpportunity SalesOpportunity (an opportunity's contact
        email and phone are other emails and phones of its customer), and a derivedFrom relationship for every
        derived_from edge that column lineage says how to join. Each is made once."""
        from recommender.models import Relationship
        from recommender.services import relationship_create, relationships_from_lineage

        customer, opportunity = self.product("customer"), self.product("sales-opportunity")
        if not Relationship.objects.filter(
            from_asset=customer, to_asset=opportunity, name=SALES_OPPORTUNITY_RELATIONSHIP
        ).exists():
            relationship_create(
                actor=self.users["maria"],
                name=SALES_OPPORTUNITY_RELATIONSHIP,
                from_asset=customer,
                to_asset=opportunity,
                key_columns=[{"from": "Customer_ID", "to": "Customer_ID"}],
                attribute_mappings=[
                    {"from": "Email", "to": "Contact_Email"},
                    {"from": "Phone", "to": "Contact_Phone"},
                ],
                description="A customer's sales opportunities; their contact email and phone are other ways to reach "
                "the customer.",
            )
        made = relationships_from_lineage()
        self.say(f"seeding relationships... {Relationship.objects.count()} ({made} from lineage)")

    def seed_recommendations(self) -> None:
        """Samples and profiles every product with data and computes its recommendations, after the seed's
        transaction (pairs already computed for the same data are skipped, so a second run matches nothing)."""
        from recommender.models import Recommendation
        from recommender.services import recommendations_compute_all

        started = monotonic()
        matched = recommendations_compute_all()
        shown = Recommendation.objects.filter(recommended=True).count()
        self.say(
            f"computing recommendations... {matched} pairs matched, {shown} recommended rows, "
            f"in {monotonic() - started:.1f}s"
        )

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
        # The sales demo is open to the analysts and to the mesh's sales team; its row and column rules decide what
        # each of them sees of the data.
        for group in ("healthcare-analysts", "sales-owners"):
            for asset in self.data_assets:
                grant_set(group=self.groups[group], permission=Permission.VIEW, actor=admin, asset=asset)
        # Ana asks for the Claim product for her team: the claims owners find it in their inbox.
        claim = self.product("claim")
        asked = AccessRequest.objects.filter(asset=claim, group=analysts).exists()
        if not asked and not Asset.objects.visible_to(self.users["ana"]).filter(pk=claim.pk).exists():
            access_request_create(
                requester=self.users["ana"],
                group=analysts,
                asset=claim,
                justification="Readmission analysis for our hospital customers needs claim amounts per customer.",
                duration_days=90,
                source=AuditSource.SYSTEM,
            )
        self.say(f"seeding grants... {Grant.objects.count()}, {AccessRequest.objects.count()} access requests")

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
                seeder.seed_data()
                seeder.seed_relationships()
                seeder.seed_placements()
                seeder.seed_grants()
                seeder.backdate()
                seeder.seed_views()
        except BaseException:
            seeder.discard_files()  # the rows naming them were rolled back
            raise
        finally:
            pre_create_historical_record.disconnect(dispatch_uid="seed_demo_history_date")
        seeder.seed_recommendations()
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
        rows = Snapshot.objects.filter(pk__in=Dataset.objects.values("current_snapshot")).aggregate(n=Sum("rows"))["n"]
        self.stdout.write(
            f"  data: {Dataset.objects.count()} datasets ({rows or 0:,} rows in their snapshots), "
            f"{Snapshot.objects.count()} snapshots, {RefreshRun.objects.count()} refresh runs, "
            f"{Visual.objects.count()} visuals, {RowRule.objects.count()} row rules, "
            f"{ColumnRule.objects.count()} column rules"
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
