"""``useDotenv: true``: a serverless.yml's ``.env`` files feed ``${env:X}``, as in the framework."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from skylet.errors import ConfigError
from skylet.manifest import load_manifest

Write = Callable[..., Path]

MANIFEST = """
service: svc
useDotenv: true
provider:
  name: aws
  stage: {stage}
custom:
  table: ${{env:TABLE}}
  url: ${{env:URL, 'none'}}
  owner: ${{env:OWNER, 'nobody'}}
functions:
  api: {{handler: app.main}}
"""


def custom(path: Path, **kwargs: object) -> dict[str, object]:
    return dict(load_manifest(path, **kwargs).custom)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("files", "stage", "cli_stage", "table"),
    [
        ({".env": "TABLE=base"}, "dev", None, "base"),
        ({".env": "TABLE=base", ".env.dev": "TABLE=dev-table"}, "dev", None, "dev-table"),
        ({".env": "TABLE=base", ".env.prod": "TABLE=prod-table"}, "dev", "prod", "prod-table"),
        ({".env": "TABLE=base", ".env.qa": "TABLE=qa-table"}, "qa", None, "qa-table"),
        ({".env": "TABLE=base", ".env.dev": "TABLE=dev"}, "${opt:stage, 'qa'}", None, "dev"),
    ],
    ids=[
        ".env alone is read",
        ".env.{stage} is read instead of .env",
        "the CLI stage chooses the file",
        "provider.stage chooses the file",
        "a stage written as a variable counts as dev",
    ],
)
def test_the_file_for_the_stage_is_loaded(
    write: Write, files: dict[str, str], stage: str, cli_stage: str | None, table: str
) -> None:
    path = write(MANIFEST.format(stage=stage))
    for name, text in files.items():
        (path.parent / name).write_text(text + "\n")
    assert custom(path, stage=cli_stage)["table"] == table


def test_only_one_file_is_read_never_both(write: Write) -> None:
    path = write(MANIFEST.format(stage="dev"))
    (path.parent / ".env").write_text("TABLE=base\nOWNER=base-owner\n")
    (path.parent / ".env.dev").write_text("TABLE=dev\n")
    assert custom(path)["owner"] == "nobody"


def test_the_real_environment_wins_and_values_expand(write: Write) -> None:
    path = write(MANIFEST.format(stage="dev"))
    (path.parent / ".env").write_text(
        "TABLE=from-file\nHOST=api.example.com\nURL=https://${HOST}/${OWNER}\nOWNER=file\n"
    )
    found = custom(path, env={"TABLE": "from-env", "OWNER": "me"})
    assert found["table"] == "from-env"
    assert found["url"] == "https://api.example.com/me"
    assert found["owner"] == "me"


def test_without_use_dotenv_the_file_is_not_read(write: Write) -> None:
    path = write(MANIFEST.format(stage="dev").replace("useDotenv: true\n", ""))
    (path.parent / ".env").write_text("TABLE=base\n")
    with pytest.raises(ConfigError, match=r"custom\.table: .*env:TABLE"):
        load_manifest(path)


def test_use_dotenv_must_be_a_boolean(write: Write) -> None:
    path = write(MANIFEST.format(stage="dev").replace("useDotenv: true", "useDotenv: yes"))
    with pytest.raises(ConfigError, match=r"^serverless\.yml:2: useDotenv: 'yes' is not a boolean"):
        load_manifest(path)
