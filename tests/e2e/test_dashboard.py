"""The dashboard in a real headless browser: Debian's Chromium driven by Playwright (its own
browser download is not used), against a real ``skylet up``. The page must load without a
console error, draw its charts with data and redraw them as invocations happen, show a recent
invocation's log, list queues, topics and alarms with their state, and draw a dashboard made
with PutDashboard. Without Chromium (or Playwright) these tests skip; with ``CI=true`` they
fail."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, cli, module_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: panel
functions:
  greeter:
    handler: handlers.echo
  broken:
    handler: handlers.fail
"""
PAGE = "/_skylet/dashboard/"

server = module_server("dashboard", MANIFEST)


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    reason = ""
    if found is None:
        reason = "Chromium is not installed (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "Playwright is not installed (the test extra has it)"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires it")
        pytest.skip(reason)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


class Page:
    """A browser tab that records every console error and uncaught exception."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.tab = self.context.new_page()
        self.errors: list[str] = []
        self.tab.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.tab.on("pageerror", lambda e: self.errors.append(str(e)))


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    opened = Page(browser)
    yield opened
    opened.context.close()


def invoke(server: Server, function: str, times: int = 1) -> str:
    """Invoke ``function`` ``times`` with stock boto3; the last request id."""
    lam = server.client("lambda")
    request_id = ""
    for _ in range(times):
        answer = lam.invoke(FunctionName=function, Payload=b"{}")
        request_id = answer["ResponseMetadata"]["RequestId"]
    return request_id


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the page did not get there in time")
        time.sleep(0.2)


def chart_total(page: Page, key: str) -> float:
    value = page.tab.get_attribute(f'[data-chart="{key}"]', "data-total")
    return float(value) if value is not None else -1.0


def test_the_overview_loads_without_console_errors_and_draws_charts_with_data(
    server: Server, page: Page
) -> None:
    invoke(server, "greeter", 3)
    invoke(server, "broken", 2)
    page.tab.goto(server.url + PAGE)
    page.tab.wait_for_selector('[data-chart="account-invocations"] canvas')
    wait_for(lambda: chart_total(page, "account-invocations") >= 5)
    assert chart_total(page, "account-errors") >= 2
    assert chart_total(page, "account-cold") >= 2  # each function's first invocation
    for key in ("account-duration", "account-concurrency", "account-cold", "by-function"):
        assert page.tab.locator(f'[data-chart="{key}"] canvas').count() >= 1, key
    row = page.tab.locator('tr[data-function="greeter"] [data-field="invocations"]')
    assert float(row.inner_text().replace(",", "")) >= 3
    # No cost part on this server: its place says so.
    cost = page.tab.locator("#cost")
    assert cost.get_attribute("data-cost") == "unavailable"
    assert "No cost figures" in cost.inner_text()
    assert page.errors == []


def test_the_charts_update_as_more_invocations_happen(server: Server, page: Page) -> None:
    page.tab.goto(server.url + PAGE)
    page.tab.wait_for_selector('[data-chart="account-invocations"] canvas')
    before = chart_total(page, "account-invocations")
    updates = int(page.tab.get_attribute("body", "data-updates") or 0)
    invoke(server, "greeter", 4)
    wait_for(lambda: chart_total(page, "account-invocations") >= before + 4)
    assert int(page.tab.get_attribute("body", "data-updates") or 0) > updates
    assert page.errors == []


def test_the_function_page_shows_a_recent_invocation_and_its_log(
    server: Server, page: Page
) -> None:
    request_id = invoke(server, "greeter")
    page.tab.goto(server.url + PAGE + "#/function/greeter")
    row = page.tab.wait_for_selector(f'tr[data-request-id="{request_id}"]')
    assert row is not None
    log = row.inner_text()
    assert "echo call" in log and f"REPORT RequestId: {request_id}" in log
    page.tab.wait_for_selector('[data-chart="fn-greeter-invocations"] canvas')
    assert chart_total(page, "fn-greeter-invocations") >= 1
    assert page.errors == []


def test_queues_topics_and_alarms_are_listed_with_their_state(server: Server, page: Page) -> None:
    sqs, sns, cloudwatch = (server.client(s) for s in ("sqs", "sns", "cloudwatch"))
    url = sqs.create_queue(QueueName="panel-jobs")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="one")
    sqs.send_message(QueueUrl=url, MessageBody="two")
    topic = sns.create_topic(Name="panel-news")["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:panel-jobs"
    )
    cloudwatch.put_metric_alarm(
        AlarmName="panel-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "broken"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="panel-errors", StateValue="ALARM", StateReason="test")
    page.tab.goto(server.url + PAGE + "#/resources")
    queue = page.tab.wait_for_selector('tr[data-queue="panel-jobs"]')
    assert queue is not None and queue.inner_text().split("\t")[1].strip() == "2"
    news = page.tab.wait_for_selector('tr[data-topic="panel-news"]')
    assert (
        news is not None
        and "sqs: arn:aws:sqs:us-east-1:000000000000:panel-jobs" in news.inner_text()
    )
    alarm = page.tab.wait_for_selector('tr[data-alarm="panel-errors"] .state-ALARM')
    assert alarm is not None and alarm.inner_text() == "ALARM"
    assert page.errors == []


def test_a_put_dashboard_dashboard_renders_its_metric_and_text_widgets(
    server: Server, page: Page
) -> None:
    invoke(server, "greeter", 2)
    body = {
        "widgets": [
            {
                "type": "text",
                "x": 0,
                "y": 0,
                "width": 24,
                "height": 2,
                "properties": {"markdown": "# Panel service\nWatch **greeter** here."},
            },
            {
                "type": "metric",
                "x": 0,
                "y": 2,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": "Greeter calls",
                    "region": "us-east-1",
                    "stat": "Sum",
                    "period": 60,
                    "metrics": [
                        ["AWS/Lambda", "Invocations", "FunctionName", "greeter"],
                        [".", "Errors", ".", "."],
                    ],
                },
            },
            {
                "type": "metric",
                "x": 12,
                "y": 2,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": "Unserved math",
                    "region": "us-east-1",
                    "metrics": [
                        ["AWS/Lambda", "Invocations", {"id": "m0", "visible": False}],
                        [{"expression": "FILL(m0, 0)", "id": "e0"}],
                    ],
                },
            },
            {
                "type": "alarm",
                "x": 0,
                "y": 8,
                "width": 24,
                "height": 2,
                "properties": {
                    "title": "Alarms",
                    "alarms": ["arn:aws:cloudwatch:us-east-1:000000000000:alarm:board-alarm"],
                },
            },
        ]
    }
    cloudwatch = server.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="board-alarm",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="board-alarm", StateValue="OK", StateReason="test")
    server.client("cloudwatch").put_dashboard(
        DashboardName="panel-board", DashboardBody=json.dumps(body)
    )
    page.tab.goto(server.url + PAGE + "#/dashboard/panel-board")
    text = page.tab.wait_for_selector('[data-widget="text"]')
    assert text is not None
    assert page.tab.locator('[data-widget="text"] h2').inner_text() == "Panel service"
    assert page.tab.locator('[data-widget="text"] strong').inner_text() == "greeter"
    page.tab.wait_for_selector('[data-widget="metric"] canvas')
    metric = page.tab.locator('[data-widget="metric"] [data-chart]').first
    wait_for(lambda: float(metric.get_attribute("data-total") or 0) >= 2)
    assert "Greeter calls" in page.tab.locator('[data-widget="metric"] h3').first.inner_text()
    # A widget CloudWatch's math refuses says why; the others still draw.
    refused = page.tab.locator('[data-widget="metric"] .error')
    assert "FILL" in refused.inner_text()
    alarm = page.tab.locator('[data-widget="alarm"] .state-OK')
    assert alarm.inner_text() == "OK"
    # The dashboard is linked from the header too.
    assert page.tab.locator('#dashboard-links a[href="#/dashboard/panel-board"]').count() == 1
    assert page.errors == []


def test_the_page_s_files_are_the_package_s_and_nothing_else(server: Server) -> None:
    js = httpx.get(server.url + PAGE + "vendor/uPlot.iife.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert httpx.get(server.url + PAGE + "vendor/uPlot.LICENSE").status_code == 200
    html = httpx.get(server.url + PAGE)
    assert "default-src 'self'" in html.headers["content-security-policy"]
    for path in ("../dashboard.py", "nothing.html", "vendor/../dashboard.py", "%2e%2e/admin.py"):
        assert httpx.get(server.url + PAGE + path).status_code == 404, path
    assert httpx.post(server.url + PAGE).status_code == 405


KEY, SECRET = "AKIDDASHBOARD", "dashboard-secret"
signed_server = module_server("dashboard-signed", MANIFEST, "--credentials", f"{KEY}:{SECRET}")


def test_with_credentials_the_data_needs_a_session_from_skylet_dashboard(
    signed_server: Server, browser: Any
) -> None:
    data = signed_server.url + PAGE + "data/overview"
    assert httpx.get(signed_server.url + PAGE).status_code == 200  # the page is open
    assert httpx.get(data).status_code == 403
    made = cli(
        "dashboard",
        "--endpoint-url",
        signed_server.url,
        "--credentials",
        f"{KEY}:{SECRET}",
        "--no-browser",
    )
    assert made.returncode == 0, made.stderr
    link = made.stdout.strip().splitlines()[-1]
    assert link.startswith(signed_server.url + PAGE + "login?token=login.")
    assert httpx.get(link.replace("token=login.", "token=login.1")).status_code == 403
    # Before the link, the page says how to sign in (its refused fetches are logged).
    stranger = Page(browser)
    try:
        stranger.tab.goto(signed_server.url + PAGE)
        told = stranger.tab.wait_for_selector("#view .error")
        assert told is not None and "skylet dashboard" in told.inner_text()
    finally:
        stranger.context.close()
    opened = Page(browser)
    try:
        opened.tab.goto(link)
        assert opened.tab.url == signed_server.url + PAGE
        opened.tab.wait_for_selector('tr[data-function="greeter"]')
        cookies = opened.context.cookies()
        assert [c["httpOnly"] for c in cookies if c["name"] == "skylet_dashboard"] == [True]
        session = {c["name"]: c["value"] for c in cookies}
        # The session reads, it does not change anything.
        assert httpx.get(data, cookies=session).status_code == 200
        retire = signed_server.url + "/_skylet/functions/greeter/instances"
        assert httpx.delete(retire, cookies=session).status_code == 403
        assert opened.errors == []
    finally:
        opened.context.close()


def test_a_day_s_window_reads_twelve_minute_periods(server: Server, page: Page) -> None:
    invoke(server, "greeter")
    page.tab.goto(server.url + PAGE)
    page.tab.wait_for_selector('[data-chart="account-invocations"] canvas')
    page.tab.select_option("#window", "1440")
    title = '[data-chart="account-invocations"] h3'
    wait_for(lambda: "per 12 min" in (page.tab.text_content(title) or ""))
    assert chart_total(page, "account-invocations") >= 1
    assert page.errors == []
