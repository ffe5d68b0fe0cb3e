"""Describe* outputs shaped as the QuickSight API returns them, for import and connector tests."""

from __future__ import annotations

from .conftest import arn

SOURCE = arn("datasource", "warehouse")


def data_source() -> dict:
    return {
        "Status": 200,
        "RequestId": "r-1",
        "DataSource": {
            "Arn": SOURCE,
            "DataSourceId": "warehouse",
            "Name": "Warehouse",
            "Type": "POSTGRESQL",
            "Status": "CREATION_SUCCESSFUL",
            "DataSourceParameters": {
                "PostgreSqlParameters": {"Host": "db.internal", "Port": 5432, "Database": "sales"}
            },
        },
    }


def joined_dataset() -> dict:
    return {
        "Status": 200,
        "DataSet": {
            "Arn": arn("dataset", "orders"),
            "DataSetId": "orders",
            "Name": "Orders with customers",
            "ImportMode": "SPICE",
            "PhysicalTableMap": {
                "pt-orders": {
                    "RelationalTable": {
                        "DataSourceArn": SOURCE,
                        "Schema": "public",
                        "Name": "orders",
                        "InputColumns": [
                            {"Name": "order_id", "Type": "INTEGER"},
                            {"Name": "customer_id", "Type": "INTEGER"},
                            {"Name": "amount", "Type": "DECIMAL"},
                        ],
                    }
                },
                "pt-customers": {
                    "RelationalTable": {
                        "DataSourceArn": SOURCE,
                        "Schema": "public",
                        "Name": "customers",
                        "InputColumns": [{"Name": "id", "Type": "INTEGER"}, {"Name": "region", "Type": "STRING"}],
                    }
                },
            },
            "LogicalTableMap": {
                "lt-orders": {"Alias": "orders", "Source": {"PhysicalTableId": "pt-orders"}},
                "lt-customers": {"Alias": "customers", "Source": {"PhysicalTableId": "pt-customers"}},
                "lt-joined": {
                    "Alias": "joined",
                    "Source": {
                        "JoinInstruction": {
                            "LeftOperand": "lt-orders",
                            "RightOperand": "lt-customers",
                            "Type": "LEFT",
                            "OnClause": "{customer_id} = {id}",
                        }
                    },
                },
            },
            "OutputColumns": [
                {"Name": "order_id", "Type": "INTEGER"},
                {"Name": "customer_id", "Type": "INTEGER"},
                {"Name": "amount", "Type": "DECIMAL"},
                {"Name": "region", "Type": "STRING"},
            ],
        },
    }


def sql_dataset() -> dict:
    return {
        "DataSet": {
            "Arn": arn("dataset", "revenue"),
            "DataSetId": "revenue",
            "Name": "Revenue by region",
            "ImportMode": "DIRECT_QUERY",
            "PhysicalTableMap": {
                "pt-sql": {
                    "CustomSql": {
                        "DataSourceArn": SOURCE,
                        "Name": "revenue",
                        "SqlQuery": (
                            "SELECT c.region, SUM(o.amount) AS revenue FROM public.orders o "
                            "JOIN public.customers c ON c.id = o.customer_id GROUP BY c.region"
                        ),
                        "Columns": [{"Name": "region", "Type": "STRING"}, {"Name": "revenue", "Type": "DECIMAL"}],
                    }
                }
            },
            "LogicalTableMap": {"lt": {"Alias": "revenue", "Source": {"PhysicalTableId": "pt-sql"}}},
            "OutputColumns": [{"Name": "region", "Type": "STRING"}, {"Name": "revenue", "Type": "DECIMAL"}],
        }
    }


def analysis() -> dict:
    return {
        "Analysis": {
            "Arn": arn("analysis", "sales-ref"),
            "AnalysisId": "sales-ref",
            "Name": "Sales reference",
            "Status": "CREATION_SUCCESSFUL",
            "DataSetArns": [arn("dataset", "orders")],
            "Sheets": [{"SheetId": "s1", "Name": "Overview"}],
        }
    }


def template() -> dict:
    return {
        "Template": {
            "Arn": arn("template", "sales"),
            "TemplateId": "sales",
            "Name": "Sales template",
            "Version": {
                "VersionNumber": 2,
                "Status": "CREATION_SUCCESSFUL",
                "SourceEntityArn": arn("analysis", "sales-ref"),
                "DataSetConfigurations": [
                    {
                        "Placeholder": "orders",
                        "DataSetSchema": {
                            "ColumnSchemaList": [
                                {"Name": "region", "DataType": "STRING"},
                                {"Name": "amount", "DataType": "DECIMAL"},
                            ]
                        },
                        "ColumnGroupSchemaList": [],
                    }
                ],
            },
        }
    }


def dashboard(dashboard_id: str = "acme", name: str = "Acme sales") -> dict:
    return {
        "Dashboard": {
            "Arn": arn("dashboard", dashboard_id),
            "DashboardId": dashboard_id,
            "Name": name,
            "Version": {
                "VersionNumber": 4,
                "Status": "CREATION_SUCCESSFUL",
                "SourceEntityArn": arn("template", "sales"),
                "DataSetArns": [arn("dataset", "revenue")],
                "Sheets": [{"SheetId": "s1", "Name": "Overview"}],
            },
        }
    }


def folder() -> dict:
    return {
        "Folder": {"Arn": arn("folder", "prod"), "FolderId": "prod", "Name": "Production", "FolderType": "SHARED"},
        "Members": [{"MemberId": "acme", "MemberArn": arn("dashboard", "acme")}],
    }


def bundle() -> dict:
    return {
        "DataSources": [data_source()],
        "DataSets": [joined_dataset(), sql_dataset()],
        "Templates": [template()],
        "Analyses": [analysis()],
        "Dashboards": [dashboard(), {"Dashboard": {"Arn": arn("dashboard", "nameless"), "Version": {}}}],
        "Folders": [folder()],
    }
