"""Settings from the environment or a TOML file, with errors that name the variable."""

import pytest

from centrex.config import ConfigError, load_settings, require


def test_defaults():
    s = load_settings({})
    assert (s.host, s.port, s.default_country) == ("127.0.0.1", 8080, "FR")
    assert s.effective_database_url.startswith("sqlite:///") and s.effective_database_url.endswith(
        "instance/centrex.sqlite3"
    )


def test_panel_cookies_are_secure_unless_told_otherwise(tmp_path):
    assert load_settings({}).secure_cookies is True
    assert load_settings({"CENTREX_SECURE_COOKIES": "false"}).secure_cookies is False
    config = tmp_path / "centrex.toml"
    config.write_text("secure_cookies = false\n")
    assert load_settings({"CENTREX_CONFIG": str(config)}).secure_cookies is False


def test_fetches_answer_within_half_a_second_whatever_the_database_does():
    s = load_settings({})
    assert (s.fetch_deadline, s.database_timeout) == (500, 5000)
    assert load_settings({"CENTREX_FETCH_DEADLINE": "300"}).fetch_deadline == 300


def test_file_then_environment_wins(tmp_path):
    config = tmp_path / "centrex.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\nxmlcurl_credentials = "fs:secret"\n')
    s = load_settings({"CENTREX_CONFIG": str(config), "CENTREX_PORT": "9100"})
    assert (s.host, s.port, s.xmlcurl_credentials) == ("0.0.0.0", 9100, "fs:secret")


@pytest.mark.parametrize(
    "env, message",
    [
        ({"CENTREX_PORT": "0"}, "CENTREX_PORT"),
        ({"CENTREX_WORKERS": "-1"}, "CENTREX_WORKERS"),
        ({"CENTREX_XMLCURL_CREDENTIALS": "nopassword"}, "CENTREX_XMLCURL_CREDENTIALS"),
        ({"CENTREX_LOG_LEVEL": "loud"}, "CENTREX_LOG_LEVEL"),
        ({"CENTREX_DEFAULT_COUNTRY": "ZZ"}, "CENTREX_DEFAULT_COUNTRY"),
        ({"CENTREX_CONFIG": "/nonexistent.toml"}, "cannot read"),
        ({"CENTREX_SECURE_COOKIES": "maybe"}, "CENTREX_SECURE_COOKIES"),
        ({"CENTREX_FETCH_DEADLINE": "0"}, "CENTREX_FETCH_DEADLINE: expected milliseconds"),
        ({"CENTREX_DATABASE_TIMEOUT": "5s"}, "CENTREX_DATABASE_TIMEOUT"),
    ],
)
def test_bad_values_are_named(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_unknown_setting_in_file(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="unknown settings prot"):
        load_settings({"CENTREX_CONFIG": str(config)})


def test_require_names_every_missing_setting():
    with pytest.raises(ConfigError, match="CENTREX_XMLCURL_CREDENTIALS is not set"):
        require(load_settings({}), "xmlcurl_credentials")
