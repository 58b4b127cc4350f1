"""``skylet up``'s queues and topics: two tables beside the functions, plain text when piped,
whole URLs and ARNs on a terminal, nothing for a project without either."""

from __future__ import annotations

import io
import re

from rich.console import Console

from skylet.cli.banner import Inventory, QueueLine, TableLine, TopicLine, show
from skylet.cli.output import Output

URL = "http://127.0.0.1:9000/000000000000"
ARN = "arn:aws:sns:us-east-1:000000000000:ImageProcessingComplete-dev"
INVENTORY = Inventory(
    queues=(
        QueueLine("image-process-dlq-dev", f"{URL}/image-process-dlq-dev", ("process onFailure",)),
        QueueLine("idle", f"{URL}/idle"),
    ),
    topics=(TopicLine("ImageProcessingComplete-dev", ARN, ("lambda notify", "sqs inbox")),),
)


def test_piped_queues_and_topics_are_plain_aligned_tables() -> None:
    stream = io.StringIO()
    show(Output(stream=stream), INVENTORY)
    lines = stream.getvalue().splitlines()
    assert [re.split(r"\s{2,}", line) for line in lines] == [
        ["SQS queues"],
        ["queue", "url", "wired to"],
        ["image-process-dlq-dev", f"{URL}/image-process-dlq-dev", "process onFailure"],
        ["idle", f"{URL}/idle", "-"],
        ["SNS topics"],
        ["topic", "subscribers", "arn"],
        ["ImageProcessingComplete-dev", "lambda notify, sqs inbox", ARN],
    ]
    assert "\x1b[" not in stream.getvalue()
    # aligned: each table's second column starts at one offset
    assert lines[1].index("url") == lines[2].index("http") == lines[3].index("http")


def test_a_project_without_queues_or_topics_lists_neither() -> None:
    stream = io.StringIO()
    show(Output(stream=stream), Inventory())
    assert stream.getvalue() == ""


def test_on_a_narrow_terminal_arns_and_urls_stay_whole_and_names_fold() -> None:
    stream = io.StringIO()
    out = Output(stream=stream)
    out.console = Console(file=stream, force_terminal=True, width=80, color_system=None)
    out.rich = True
    long_name = "lambda serverless-image-processor-dev-notify"
    show(out, Inventory(topics=(TopicLine("ImageProcessingComplete-dev", ARN, (long_name,)),)))
    text = stream.getvalue()
    assert ARN in text
    assert "…" not in text
    cells = "".join(line.split("│")[2].strip() for line in text.splitlines() if "│" in line)
    assert long_name.replace(" ", "") in cells.replace(" ", "")


def test_tables_are_listed_with_their_keys_streams_and_what_they_feed() -> None:
    stream_arn = (
        "arn:aws:dynamodb:us-east-1:000000000000:table/Thread/stream/2026-12-08T00:00:00.000"
    )
    stream = io.StringIO()
    show(
        Output(stream=stream),
        Inventory(
            tables=(
                TableLine("Plain", "id (S)"),
                TableLine(
                    "Thread",
                    "ForumName (S) / Subject (S)",
                    "NEW_AND_OLD_IMAGES",
                    stream_arn,
                    ("audit", "index"),
                ),
            )
        ),
    )
    assert [re.split(r"\s{2,}", line) for line in stream.getvalue().splitlines()] == [
        ["DynamoDB tables"],
        ["table", "keys", "stream", "feeds", "stream arn"],
        ["Plain", "id (S)", "-", "-", "-"],
        ["Thread", "ForumName (S) / Subject (S)", "NEW_AND_OLD_IMAGES", "audit, index", stream_arn],
    ]
