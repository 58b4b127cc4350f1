"""The safe YAML loader: lines by key path, CloudFormation tags, strictness."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from skylet.errors import ConfigError
from skylet.manifest import Intrinsic
from skylet.manifest.yaml_loader import LineLoader, load_yaml


def test_lines_are_recorded_for_every_key_and_sequence_item(write: Callable[..., Path]) -> None:
    data, source = load_yaml(
        write(
            """
            service: svc
            functions:
              api:
                events:
                  - http: GET /
                  - sqs: q
            """
        )
    )
    assert data["functions"]["api"]["events"][1] == {"sqs": "q"}
    assert source.line(("service",)) == 1
    assert source.line(("functions", "api", "events")) == 4
    assert source.line(("functions", "api", "events", 1)) == 6
    assert source.line(("functions", "api", "events", 1, "sqs")) == 6


def test_a_path_without_a_line_uses_its_nearest_ancestor(write: Callable[..., Path]) -> None:
    _, source = load_yaml(write("a:\n  b: 1\n"))
    assert source.line(("a", "b", "c", 0)) == 2
    assert source.where(("a", "b", "c", 0)) == "serverless.yml:2: a.b.c[0]"


def test_short_tags_become_intrinsics(write: Callable[..., Path]) -> None:
    data, _ = load_yaml(
        write(
            """
            ref: !Ref NotificationTopic
            att: !GetAtt MyTable.StreamArn
            att_list: !GetAtt [MyTable, Arn]
            sub: !Sub "arn:${AWS::Partition}:s3:::${Bucket}/*"
            join: !Join [":", [a, !Ref B]]
            select: !Select [0, !GetAZs ""]
            split: !Split [",", "a,b"]
            import: !ImportValue shared-arn
            cond: !If [IsProd, !Ref A, !Ref "AWS::NoValue"]
            eq: !Equals [!Ref Stage, prod]
            not: !Not [!Condition IsProd]
            and: !And [!Condition A, !Condition B]
            or: !Or [!Condition A, !Condition B]
            map: !FindInMap [Sizes, !Ref Stage, memory]
            b64: !Base64 hello
            cidr: !Cidr ["10.0.0.0/16", 4, 8]
            """
        )
    )
    assert data["ref"] == Intrinsic("Ref", ("NotificationTopic",))
    assert data["att"] == Intrinsic("Fn::GetAtt", ("MyTable", "StreamArn"))
    assert data["att_list"] == Intrinsic("Fn::GetAtt", ("MyTable", "Arn"))
    assert data["sub"] == Intrinsic("Fn::Sub", ("arn:${AWS::Partition}:s3:::${Bucket}/*",))
    assert data["join"] == Intrinsic("Fn::Join", (":", ["a", Intrinsic("Ref", ("B",))]))
    assert data["select"] == Intrinsic("Fn::Select", (0, Intrinsic("Fn::GetAZs", ("",))))
    assert data["split"].fn == "Fn::Split"
    assert data["import"] == Intrinsic("Fn::ImportValue", ("shared-arn",))
    assert data["cond"].fn == "Fn::If" and data["cond"].args[0] == "IsProd"
    assert data["eq"] == Intrinsic("Fn::Equals", (Intrinsic("Ref", ("Stage",)), "prod"))
    assert data["not"] == Intrinsic("Fn::Not", (Intrinsic("Condition", ("IsProd",)),))
    assert [a.args[0] for a in data["and"].args] == ["A", "B"]
    assert data["or"].fn == "Fn::Or"
    assert data["map"].args[2] == "memory"
    assert data["b64"] == Intrinsic("Fn::Base64", ("hello",))
    assert data["cidr"] == Intrinsic("Fn::Cidr", ("10.0.0.0/16", 4, 8))


def test_long_form_intrinsics_become_the_same_values(write: Callable[..., Path]) -> None:
    data, _ = load_yaml(
        write(
            """
            list: {Fn::GetAtt: [MyTable, StreamArn]}
            dotted: {Fn::GetAtt: MyTable.StreamArn}
            ref: {Ref: X}
            sub: {Fn::Sub: "${AWS::Region}-x"}
            join: {"Fn::Join": ["", ["a", {"Ref": "B"}]]}
            import: {Fn::ImportValue: shared}
            cond: {Fn::And: [{Condition: A}, {Condition: B}]}
            plain: {Condition: NotAFunctionHere}
            """
        )
    )
    assert data["list"] == data["dotted"] == Intrinsic("Fn::GetAtt", ("MyTable", "StreamArn"))
    assert data["ref"] == Intrinsic("Ref", ("X",))
    assert data["sub"] == Intrinsic("Fn::Sub", ("${AWS::Region}-x",))
    assert data["join"] == Intrinsic("Fn::Join", ("", ["a", Intrinsic("Ref", ("B",))]))
    assert data["import"] == Intrinsic("Fn::ImportValue", ("shared",))
    assert data["cond"].args == (Intrinsic("Condition", ("A",)), Intrinsic("Condition", ("B",)))
    assert data["plain"] == {"Condition": "NotAFunctionHere"}


def test_attributes_with_dots_keep_everything_after_the_logical_id(
    write: Callable[..., Path],
) -> None:
    data, _ = load_yaml(write("x: !GetAtt Db.Endpoint.Address\n"))
    assert data["x"] == Intrinsic("Fn::GetAtt", ("Db", "Endpoint.Address"))


def test_yaml_1_2_scalars_as_the_serverless_framework_reads_them(
    write: Callable[..., Path],
) -> None:
    data, _ = load_yaml(
        write(
            "a: off\nb: yes\nc: true\nd: 0755\ne: 1:30\nf: 1e3\ng: 2024-01-31\nh: 0x10\n200: ok\n"
        )
    )
    assert data == {
        "a": "off",
        "b": "yes",
        "c": True,
        "d": "0755",
        "e": "1:30",
        "f": 1000.0,
        "g": "2024-01-31",
        "h": 16,
        "200": "ok",
    }


def test_merge_keys_still_work_and_own_keys_win(write: Callable[..., Path]) -> None:
    data, source = load_yaml(write("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n"))
    assert data["child"] == {"x": 1, "y": 3}
    assert source.line(("child", "y")) == 4


def test_an_alias_that_contains_itself_is_an_error(write: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError, match=r"serverless.yml:1: a YAML alias refers to itself"):
        load_yaml(write("a: &a [1, *a]\n"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "a: !Ref [x, y]\n", r":1: a: !Ref takes 1 argument", id="ref with two arguments"
        ),
        pytest.param(
            "a: !Ref {x: 1}\n", r":1: a: !Ref needs a logical id string", id="ref of a mapping"
        ),
        pytest.param(
            "a: !Sub [1, 2]\n", r":1: a: !Sub needs a template string", id="sub of a number"
        ),
        pytest.param(
            "a: !If [x, y]\n", r":1: a: !If takes 3 argument", id="if with two branches missing"
        ),
        pytest.param("a: !Bogus x\n", r":1: unknown YAML tag !Bogus", id="unknown tag"),
        pytest.param(
            "? [a]\n: 1\n", r":1: a mapping key must be a plain string", id="list as a key"
        ),
        pytest.param("a: 1\n  b: 2\n", r"serverless.yml:2: ", id="bad indentation"),
        pytest.param(
            "a: {s: */5 * * * *}\n",
            r":1: while scanning an alias: .* \(put values such as cron expressions that",
            id="unquoted star in a flow mapping",
        ),
        pytest.param(
            "a: {s: cron(0 8 ? * MON *)}\n",
            r":1: .*but got '\?' \(put values such as cron expressions",
            id="unquoted question mark in a flow mapping",
        ),
    ],
)
def test_malformed_yaml_names_the_line(write: Callable[..., Path], text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_yaml(write(text))


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "nope.yml")


def test_the_loader_cannot_build_python_objects(write: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError, match="could not determine a constructor"):
        load_yaml(write("a: !!python/object/apply:os.system ['true']\n"))
    assert issubclass(LineLoader, __import__("yaml").SafeLoader)


@pytest.mark.parametrize(
    "text",
    [
        "custom:\n  a: " + "[" * 5000 + "]" * 5000 + "\n",
        "custom:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(2000)),
        "custom:\n  a: " + "{x: " * 3000 + "1" + "}" * 3000 + "\n",
    ],
    ids=["5000 nested lists", "2000 nested block mappings", "3000 nested flow mappings"],
)
def test_a_deeply_nested_manifest_is_a_manifest_error_naming_the_file_and_limit(
    write: Callable[..., Path], text: str
) -> None:
    with pytest.raises(ConfigError, match=r"^serverless\.yml:\d+: .*deeper than 100 levels"):
        load_yaml(write(text))


def test_aliases_that_nest_past_the_limit_are_refused_before_they_are_built(
    write: Callable[..., Path],
) -> None:
    # Each anchor is 60 levels deep, and the second holds the first at its bottom: 120 levels.
    deep = "[" * 59 + "1" + "]" * 59
    deeper = "[" * 59 + "*a" + "]" * 59
    path = write(f"a: &a [{deep}]\nb: [{deeper}]\n")
    with pytest.raises(ConfigError, match=r"^serverless\.yml:\d+: .*deeper than 100 levels"):
        load_yaml(path)


def test_a_manifest_one_level_inside_the_limit_loads(write: Callable[..., Path]) -> None:
    data, _ = load_yaml(write("a: " + "[" * 99 + "]" * 99 + "\n"))
    assert data["a"] is not None


def test_a_deeply_nested_json_file_read_by_a_variable_names_that_file(
    write: Callable[..., Path],
) -> None:
    from skylet.manifest import load_manifest

    path = write("service: svc\ncustom: ${file(./deep.json)}\n")
    (path.parent / "deep.json").write_text('{"a": ' * 4000 + "1" + "}" * 4000)
    with pytest.raises(ConfigError, match=r"^deep\.json:1: .*deeper than 100 levels"):
        load_manifest(path)
