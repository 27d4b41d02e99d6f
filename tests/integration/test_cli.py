"""The `centrex` command, run as a user would (main() with argv, real database)."""

import json

import pytest

from centrex.cli import main
from tests.conftest import DEMO_YAML


@pytest.fixture
def env(monkeypatch, database_url, engine):
    monkeypatch.setenv("CENTREX_DATABASE_URL", database_url)
    for name in ["CENTREX_CONFIG", "CENTREX_XMLCURL_CREDENTIALS"]:
        monkeypatch.delenv(name, raising=False)


def test_apply_export_round_trip_and_idempotence(env, tmp_path, capsys):
    assert main(["apply", str(DEMO_YAML)]) == 0
    assert "created: user 1000" in capsys.readouterr().out
    assert main(["apply", str(DEMO_YAML)]) == 0
    assert capsys.readouterr().out == "no change\n"
    out = tmp_path / "export.yaml"
    assert main(["export", "demo.example", "-o", str(out)]) == 0
    assert main(["apply", str(out)]) == 0
    assert capsys.readouterr().out == "no change\n"
    assert main(["export", "demo.example"]) == 0
    assert capsys.readouterr().out == out.read_text()


def test_invalid_document_is_refused_with_paths(env, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEMO_YAML.read_text().replace('extension: "1001"', 'extension: "10x1"'))
    assert main(["apply", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "invalid, nothing written" in err and "users[1].extension: must be 2 to 8 digits" in err
    assert main(["tenants"]) == 0
    assert capsys.readouterr().out == ""


def test_unreadable_documents_are_refused_and_nothing_written(env, tmp_path, capsys):
    """A second `users:` would have dropped the first one's users (the last key won);
    a file in Latin-1, a lone surrogate escape or nesting too deep ended in a
    traceback. Each is said, with where, and nothing is written."""
    demo = DEMO_YAML.read_text()
    cases = {
        "twice.yaml": (demo + "users: []\n").encode(),
        "latin1.yaml": demo.replace("name: ", "name: Caf\u00e9 ", 1).encode("latin-1"),
        "surrogate.yaml": demo.replace("name: ", 'name: "\\ud800" #', 1).encode(),
        "deep.yaml": ("a: " + "[" * 5000 + "]" * 5000 + "\n").encode(),
    }
    said = {}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        assert main(["apply", str(tmp_path / name)]) == 1, name
        said[name] = capsys.readouterr().err
    assert "found the key 'users' twice" in said["twice.yaml"]
    assert f"line {demo.count(chr(10)) + 1}" in said["twice.yaml"]
    assert "latin1.yaml: not UTF-8 text (byte 0xe9 at " in said["latin1.yaml"]
    assert "\n  name: not Unicode text (a lone surrogate escape)" in said["surrogate.yaml"]
    assert "nested too deeply" in said["deep.yaml"]
    assert not any("Traceback" in text for text in said.values())
    assert main(["tenants"]) == 0
    assert capsys.readouterr().out == ""


def test_dry_run_and_unknown_tenant(env, capsys):
    assert main(["apply", "--dry-run", str(DEMO_YAML)]) == 0
    assert "would create: tenant demo.example" in capsys.readouterr().out
    assert main(["export", "demo.example"]) == 1
    assert "no tenant demo.example" in capsys.readouterr().err


def test_delete_needs_yes(env, capsys):
    main(["apply", str(DEMO_YAML)])
    assert main(["delete", "demo.example"]) == 1
    assert main(["delete", "demo.example", "--yes"]) == 0
    capsys.readouterr()
    main(["tenants"])
    assert capsys.readouterr().out == ""


def test_token_and_schema(env, capsys):
    main(["apply", str(DEMO_YAML)])
    capsys.readouterr()
    assert main(["token", "create", "ops", "--tenant", "demo.example"]) == 0
    assert len(capsys.readouterr().out.strip()) >= 40
    assert main(["token", "create", "x", "--tenant", "nobody.example"]) == 1
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "TenantDoc"


def test_serve_without_credentials_is_a_clear_error(env, capsys):
    assert main(["serve"]) == 1
    assert "CENTREX_XMLCURL_CREDENTIALS is not set" in capsys.readouterr().err


def test_bad_setting_is_named(env, monkeypatch, capsys):
    monkeypatch.setenv("CENTREX_PORT", "eighty")
    assert main(["tenants"]) == 1
    assert "CENTREX_PORT: expected a TCP port number" in capsys.readouterr().err


def test_holidays_import_command(env, capsys):
    main(["apply", str(DEMO_YAML)])
    capsys.readouterr()
    assert main(["holidays", "import", "demo.example", "--year", "2027"]) == 0
    assert capsys.readouterr().out == "updated: tenant demo.example\n"
    assert main(["holidays", "import", "demo.example", "--year", "2027"]) == 0
    assert capsys.readouterr().out == "no change\n"


def test_demo_moves_its_tenant_when_the_domain_changes(env, tmp_path, monkeypatch, capsys):
    import centrex.server

    served = []
    monkeypatch.setattr(centrex.server, "serve", lambda settings: served.append(settings))
    monkeypatch.setenv("CENTREX_DATA_DIR", str(tmp_path))
    assert main(["demo"]) == 0
    assert main(["demo", "--domain", "pbx.demo.example"]) == 0
    capsys.readouterr()
    assert main(["tenants"]) == 0
    assert capsys.readouterr().out == "pbx.demo.example\n"
    assert len(served) == 2 and served[1].xmlcurl_credentials == served[0].xmlcurl_credentials
