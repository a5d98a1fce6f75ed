"""`dbc-validate netpol`: one flow with its explanation, or the whole expected matrix."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT

from dbc_validate.cli import main

STACK = str(ROOT / "fixtures" / "analysis" / "good" / "stack")


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_an_allowed_flow_answers_true_with_the_admitting_rules(capsys):
    args = [
        "netpol",
        STACK,
        "--from",
        "prod/wordpress",
        "--to",
        "infra/mysql",
        "--port",
        "3306/TCP",
        "--format",
        "json",
    ]
    assert main(args) == 0
    answer = _json(capsys)
    assert answer["allowed"] is True
    (pair,) = answer["explanation"]["pairs"]
    assert pair["ingress"]["admitted_by"] == ["infra/mysql from-rule 0"]
    assert "prod/wordpress -> infra/mysql 3306/TCP: allowed" in answer["explanation"]["text"]


def test_a_denied_flow_answers_false_and_still_exits_zero(capsys):
    args = [
        "netpol",
        STACK,
        "--from",
        "stage/wordpress",
        "--to",
        "prod/wordpress",
        "--port",
        "8080",
        "--format",
        "json",
    ]
    assert main(args) == 0
    answer = _json(capsys)
    assert answer["allowed"] is False and "no rule admits this flow" in answer["explanation"]["text"]


def test_text_output_explains_each_side(capsys):
    assert main(["netpol", STACK, "--from", "infra/mysql-backup", "--to", "8.8.8.8", "--port", "443/tcp"]) == 0
    out = capsys.readouterr().out
    assert "infra/mysql-backup -> 8.8.8.8 443/TCP: allowed" in out and "outside the cluster" in out


def test_without_a_flow_it_prints_the_expected_matrix(capsys):
    assert main(["netpol", STACK, "--format", "json"]) == 0
    flows = _json(capsys)["flows"]
    assert flows and set(flows[0]) == {"from", "to", "port", "protocol", "allowed"}
    assert {
        "from": "ingress-system/traefik",
        "to": "prod/wordpress",
        "port": 8080,
        "protocol": "TCP",
        "allowed": True,
    } in flows
    assert main(["netpol", STACK]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith("allowed")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "prod/ghost", "--to", "infra/mysql", "--port", "3306"], "unknown workload 'prod/ghost'"),
        (["--from", "prod/wordpress"], "--from, --to and --port go together"),
        (["--from", "prod/wordpress", "--to", "infra/mysql", "--port", "3306/ICMP"], "bad --port"),
        (["--from", "prod/wordpress", "--to", "infra/mysql", "--port", "mysql"], "bad --port"),
    ],
)
def test_bad_input_exits_two_with_a_clear_message(capsys, args, message):
    assert main(["netpol", STACK, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_unknown_workload_error_lists_the_known_ones(capsys):
    main(["netpol", STACK, "--from", "prod/ghost", "--to", "infra/mysql", "--port", "3306"])
    assert "known: cnpg-system/cnpg-controller-manager, infra/mysql" in capsys.readouterr().err
