"""``skylet topic ls|publish`` as a real process against SNS on a real socket."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.aws.sns.endpoints import body_of, make_queue, received
from tests.aws.sns.served import Served

SKYLET = str(Path(sys.executable).parent / "skylet")


def skylet(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SKYLET, "topic", *args, "--endpoint-url", served.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_topic_ls_lists_topics_with_their_subscriptions(served: Served, sns: Any) -> None:
    arn = sns.create_topic(Name="cli-listed")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:x")
    done = skylet(served, "ls", "--json")
    assert done.returncode == 0, done.stderr
    row = next(r for r in json.loads(done.stdout) if r["TopicArn"] == arn)
    assert row == {
        "Name": "cli-listed",
        "TopicArn": arn,
        "SubscriptionsConfirmed": 1,
        "SubscriptionsPending": 0,
        "Fifo": False,
    }
    table = skylet(served, "ls")
    assert table.returncode == 0 and "cli-listed" in table.stdout


def test_topic_publish_by_name_prints_the_message_id(served: Served, sns: Any) -> None:
    arn = sns.create_topic(Name="cli-publish")["TopicArn"]
    queue = make_queue(served, "cli-q")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)
    done = skylet(served, "publish", "cli-publish", "hi there", "-s", "subj", "-a", "k=v")
    assert done.returncode == 0, done.stderr
    (message,) = received(served, "cli-q")
    document = body_of(message)
    assert document["MessageId"] == done.stdout.strip()
    assert (document["Message"], document["Subject"]) == ("hi there", "subj")
    assert document["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}


def test_topic_publish_to_a_missing_topic_exits_4(served: Served) -> None:
    done = skylet(served, "publish", "no-such-topic", "m")
    assert done.returncode == 4
    assert "no topic named 'no-such-topic'" in done.stderr
