"""CloudWatch's dashboards: PutDashboard (the body checked as ``dashboards.py`` says),
GetDashboard, ListDashboards, DeleteDashboards."""

from __future__ import annotations

import json

from skylet.aws.cloudwatch.base import CloudWatchBase, token_of
from skylet.aws.cloudwatch.dashboards import validate
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.errors import ServiceError


class DashboardOperations(CloudWatchBase):
    def _dashboard_arn(self, name: str) -> str:
        return f"arn:aws:cloudwatch::{self.account_id}:dashboard/{name}"

    async def put_dashboard(self, request: Params, context: RequestContext) -> Params:
        name: str = request["DashboardName"]
        body: str = request["DashboardBody"]
        if not name or len(name) > 255 or not all(c.isalnum() or c in "-_" for c in name):
            raise ServiceError(
                "InvalidParameterValue",
                "The value for field DashboardName contains invalid characters. It can only "
                "contain alphanumerics, dash (-) and underscore (_).",
            )
        messages = validate(body)
        if messages:
            listed = json.dumps(
                [{"dataPath": m["DataPath"], "message": m["Message"]} for m in messages]
            )
            raise ServiceError(
                "DashboardInvalidInputError",
                f"The dashboard body is invalid, there are {len(messages)} validation errors: "
                f"{listed}",
                fields={"dashboardValidationMessages": messages},
            )
        await self.dashboards.put(
            name,
            {
                "DashboardName": name,
                "DashboardArn": self._dashboard_arn(name),
                "DashboardBody": body,
                "LastModified": self.clock(),
                "Size": len(body.encode()),
            },
        )
        return {"DashboardValidationMessages": []}

    async def get_dashboard(self, request: Params, context: RequestContext) -> Params:
        found = await self.dashboards.get(request["DashboardName"])
        if found is None:
            raise ServiceError("DashboardNotFoundError", "Dashboard does not exist")
        return {k: found[k] for k in ("DashboardArn", "DashboardBody", "DashboardName")}

    async def list_dashboards(self, request: Params, context: RequestContext) -> Params:
        found = await self.dashboards.all(request.get("DashboardNamePrefix") or "")
        start = token_of(request.get("NextToken"))
        page = found[start : start + 1000]
        result: Params = {
            "DashboardEntries": [
                {k: d[k] for k in ("DashboardName", "DashboardArn", "LastModified", "Size")}
                for d in page
            ]
        }
        if start + 1000 < len(found):
            result["NextToken"] = str(start + 1000)
        return result

    async def delete_dashboards(self, request: Params, context: RequestContext) -> None:
        names: list[str] = list(request["DashboardNames"])
        for name in names:
            if await self.dashboards.get(name) is None:
                raise ServiceError(
                    "DashboardNotFoundError", f"Dashboard {name} does not exist", status=404
                )
        await self.dashboards.delete(names)
