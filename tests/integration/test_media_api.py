"""Tenant media end to end: REST API, command line, files on disk, and the hold music
streams FreeSWITCH fetches (`configuration` section, local_stream.conf)."""

import io

import pytest
from lxml import etree

from centrex.app import create_app
from centrex.cli import main
from centrex.config import Settings
from centrex.db import make_engine
from provisioning import service
from tests.conftest import XMLCURL_CREDENTIALS, apply_raw, demo_document, post_fetch
from tests.fsrequests import fixture_fields
from tests.integration.test_xmlcurl import count_queries, is_not_found, xml
from tests.unit.test_media import mp3, tone, wav

DOMAIN = "127.0.0.1"
OTHER = "pbx.other.example"
LOCAL_STREAM = "configuration-local_stream.conf"


@pytest.fixture
def media_dir(tmp_path_factory):
    # A plain path: FreeSWITCH is handed it, so the store refuses brackets and spaces.
    return tmp_path_factory.mktemp("media")


@pytest.fixture
def settings(database_url, media_dir):
    return Settings(
        database_url=database_url,
        xmlcurl_credentials=XMLCURL_CREDENTIALS,
        media_dir=str(media_dir),
    )


@pytest.fixture
def client(settings, engine):
    return create_app(settings, engine).test_client()


@pytest.fixture
def tokens(session, demo_tenant, engine):
    apply_raw(engine, demo_document(OTHER, numbers=[], main_number=None, users=[]))
    tokens = {
        "admin": service.create_token(session, "admin", None),
        "tenant": service.create_token(session, "tenant", DOMAIN),
    }
    session.commit()
    return {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}


@pytest.fixture(scope="module")
def short_wav():
    return wav(tone(44100, 1.5, channels=2), 44100)


def upload(client, headers, kind, name, data, domain=DOMAIN, raw_type=None):
    url = f"/api/v1/tenants/{domain}/media/{kind}/{name}"
    if raw_type:
        return client.post(url, headers=headers, data=data, content_type=raw_type)
    return client.post(
        url,
        headers=headers,
        data={"file": (io.BytesIO(data), "upload.bin")},
        content_type="multipart/form-data",
    )


def listed(client, headers, domain=DOMAIN):
    response = client.get(f"/api/v1/tenants/{domain}/media", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["media"]


def test_upload_list_replace_delete(client, tokens, media_dir, short_wav):
    h = tokens["tenant"]
    created = upload(client, h, "music", "jazz", short_wav)
    assert created.status_code == 201, created.json
    assert created.json["stream"] == f"centrex/{DOMAIN}/jazz"
    assert abs(created.json["duration_ms"] - 1500) <= 30
    folder = media_dir / DOMAIN / "music" / "jazz"
    assert sorted(p.name for p in folder.iterdir()) == ["16000", "8000"]
    assert created.json["size"] == sum(f.stat().st_size for f in folder.rglob("*.wav"))

    longer = mp3(tone(44100, 3), 44100)
    replaced = upload(client, h, "music", "jazz", longer, raw_type="audio/mpeg")
    assert replaced.status_code == 200, replaced.json
    assert abs(replaced.json["duration_ms"] - 3000) <= 30
    assert upload(client, h, "announcement", "welcome", short_wav).status_code == 201

    items = listed(client, h)
    assert [(m["kind"], m["name"]) for m in items] == [
        ("announcement", "welcome"),
        ("music", "jazz"),
    ]
    assert "stream" not in items[0] and items[1]["created_at"].endswith("+00:00")

    assert client.delete(f"/api/v1/tenants/{DOMAIN}/media/music/jazz", headers=h).status_code == 204
    assert not folder.exists()
    assert (media_dir / DOMAIN / "announcement" / "welcome").exists()
    assert client.delete(f"/api/v1/tenants/{DOMAIN}/media/music/jazz", headers=h).status_code == 404
    assert [m["name"] for m in listed(client, h)] == ["welcome"]


def test_ten_per_kind_then_409(client, tokens, short_wav):
    h = tokens["admin"]
    clip = wav(tone(8000, 0.2), 8000)
    for i in range(10):
        assert upload(client, h, "ringback", f"ring{i}", clip).status_code == 201
    refused = upload(client, h, "ringback", "ring10", clip)
    assert refused.status_code == 409 and "delete one first" in refused.json["error"]
    # Replacing one of the ten, or another kind, is still fine.
    assert upload(client, h, "ringback", "ring3", short_wav).status_code == 200
    assert upload(client, h, "announcement", "welcome", clip).status_code == 201
    assert upload(client, h, "ringback", "ring0", clip, domain=OTHER).status_code == 201


@pytest.mark.parametrize("raw_type", [None, "audio/wav"])
def test_more_than_4_mib_is_413(client, tokens, raw_type):
    big = wav(tone(8000, 1), 8000).ljust(4 * 1024 * 1024 + 1, b"\x00")
    response = upload(client, tokens["admin"], "music", "big", big, raw_type=raw_type)
    assert response.status_code == 413 and "4 MiB" in response.json["error"]
    far_too_big = b"\x00" * (5 * 1024 * 1024)
    response = upload(client, tokens["admin"], "music", "big", far_too_big, raw_type=raw_type)
    assert response.status_code == 413 and "4 MiB" in response.json["error"]


@pytest.mark.parametrize(
    ("kind", "name", "data", "message"),
    [
        ("music", "notes", b"just some text, renamed to notes.mp3\n" * 10, "not a WAV or MP3"),
        ("music", "empty", b"", "empty"),
        ("music", "Bad Name", None, "lower-case letters"),
        ("musics", "jazz", None, "kind must be one of"),
    ],
)
def test_invalid_audio_kind_or_name_is_422(client, tokens, short_wav, kind, name, data, message):
    response = upload(client, tokens["admin"], kind, name, short_wav if data is None else data)
    assert response.status_code == 422 and message in response.json["error"]
    assert listed(client, tokens["admin"]) == []


def test_missing_file_field_or_other_body_is_refused(client, tokens, short_wav):
    url = f"/api/v1/tenants/{DOMAIN}/media/music/jazz"
    no_field = client.post(
        url,
        headers=tokens["admin"],
        data={"other": (io.BytesIO(short_wav), "a.wav")},
        content_type="multipart/form-data",
    )
    assert no_field.status_code == 422 and "'file'" in no_field.json["error"]
    as_json = client.post(url, headers=tokens["admin"], json={"file": "x"})
    assert as_json.status_code == 415


def test_tenants_see_and_change_only_their_own_media(client, tokens, media_dir, short_wav):
    assert (
        upload(client, tokens["admin"], "music", "jazz", short_wav, domain=OTHER).status_code == 201
    )
    h = tokens["tenant"]
    assert upload(client, h, "music", "jazz", short_wav, domain=OTHER).status_code == 404
    assert client.get(f"/api/v1/tenants/{OTHER}/media", headers=h).status_code == 404
    assert client.delete(f"/api/v1/tenants/{OTHER}/media/music/jazz", headers=h).status_code == 404
    assert listed(client, h) == []
    assert (media_dir / OTHER / "music" / "jazz").exists()
    assert (
        client.get("/api/v1/tenants/nobody.example/media", headers=tokens["admin"]).status_code
        == 404
    )
    assert client.get(f"/api/v1/tenants/{DOMAIN}/media").status_code == 401


def test_deleting_the_tenant_removes_its_media(client, tokens, media_dir, short_wav, engine):
    from sqlalchemy import func, select

    from provisioning.models import Media

    upload(client, tokens["admin"], "music", "jazz", short_wav, domain=OTHER)
    upload(client, tokens["admin"], "music", "jazz", short_wav)
    assert client.delete(f"/api/v1/tenants/{OTHER}", headers=tokens["admin"]).status_code == 204
    assert not (media_dir / OTHER).exists()
    assert (media_dir / DOMAIN / "music" / "jazz").exists()
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Media)) == 1


def test_command_line_add_list_delete(
    monkeypatch, database_url, engine, demo_tenant, media_dir, tmp_path, capsys, short_wav
):
    monkeypatch.setenv("CENTREX_DATABASE_URL", database_url)
    monkeypatch.setenv("CENTREX_MEDIA_DIR", str(media_dir))
    monkeypatch.delenv("CENTREX_CONFIG", raising=False)
    song = tmp_path / "song.mp3"
    song.write_bytes(mp3(tone(22050, 2), 22050))
    assert main(["media", "add", DOMAIN, "music", "jazz", str(song)]) == 0
    assert capsys.readouterr().out.startswith("created: music jazz (0:02, ")
    assert main(["media", "add", DOMAIN, "music", "jazz", str(song)]) == 0
    assert capsys.readouterr().out.startswith("replaced: music jazz")
    text = tmp_path / "notes.wav"
    text.write_text("not audio\n" * 10)
    assert main(["media", "add", DOMAIN, "announcement", "notes", str(text)]) == 1
    assert "not a WAV or MP3" in capsys.readouterr().err
    assert main(["media", "list", DOMAIN]) == 0
    out = capsys.readouterr().out
    assert "music" in out and f"local_stream://centrex/{DOMAIN}/jazz" in out
    assert main(["media", "delete", DOMAIN, "music", "jazz"]) == 0
    assert not (media_dir / DOMAIN / "music" / "jazz").exists()
    assert main(["media", "delete", DOMAIN, "music", "jazz"]) == 1
    assert "no music jazz" in capsys.readouterr().err
    assert main(["media", "list", DOMAIN]) == 0
    assert capsys.readouterr().out == f"no media for {DOMAIN}\n"


# --- local_stream.conf through the configuration section ---------------------------
def streams(root: etree._Element) -> dict[str, tuple[str, dict[str, str]]]:
    configuration = root.find("section[@name='configuration']/configuration")
    assert configuration.get("name") == "local_stream.conf"
    return {
        d.get("name"): (d.get("path"), {p.get("name"): p.get("value") for p in d.iter("param")})
        for d in configuration.iter("directory")
    }


def test_fixture_request_gets_every_hold_music_stream(client, tokens, media_dir, short_wav):
    upload(client, tokens["admin"], "music", "jazz", short_wav)
    upload(client, tokens["admin"], "music", "calm", short_wav, domain=OTHER)
    upload(client, tokens["admin"], "announcement", "welcome", short_wav)
    found = streams(xml(post_fetch(client, fixture_fields(LOCAL_STREAM))))
    assert found["moh"][0] == "$${sounds_dir}/music/8000"
    assert set(found) == {
        "moh",
        "default",
        f"centrex/{DOMAIN}/jazz",
        f"centrex/{DOMAIN}/jazz/8000",
        f"centrex/{OTHER}/calm",
        f"centrex/{OTHER}/calm/8000",
    }
    for name, (path, params) in found.items():
        if name.startswith("centrex/"):
            assert params["rate"] in path and (media_dir / path).is_dir()
            assert [f.name for f in (media_dir / path).iterdir()] == [f"{name.split('/')[2]}.wav"]


def test_without_tenant_music_the_stock_streams_are_served(client, demo_tenant):
    assert set(streams(xml(post_fetch(client, fixture_fields(LOCAL_STREAM))))) == {"moh", "default"}


@pytest.mark.parametrize("name", ["configuration-sofia.conf", "configuration-acl.conf"])
def test_other_configurations_stay_not_found(client, demo_tenant, name):
    assert is_not_found(xml(post_fetch(client, fixture_fields(name))))


def test_a_row_that_bypassed_validation_never_reaches_freeswitch(client, tokens, engine, caplog):
    from sqlalchemy import insert, select

    from provisioning.models import Media, Tenant

    with engine.begin() as conn:
        tenant_id = conn.scalar(select(Tenant.id).where(Tenant.domain == DOMAIN))
        conn.execute(
            insert(Media).values(
                tenant_id=tenant_id,
                kind="music",
                name='"/><X-PRE-PROCESS cmd="set"/>',
                path="127.0.0.1/music/x/x.wav",
                duration_ms=1,
                size=1,
            )
        )
    response = post_fetch(client, fixture_fields(LOCAL_STREAM))
    # Left out, logged; every other tenant's hold music and the stock streams still load.
    streams = [d.get("name") for d in xml(response).iter("directory")]
    assert streams == ["moh", "default"]
    assert b"PRE-PROCESS" not in response.data
    assert "left out of FreeSWITCH's configuration" in caplog.text


def test_a_media_named_like_a_preprocessor_directive_is_refused(client, tokens, short_wav):
    """Such a name would make FreeSWITCH's hold music configuration (shared by every
    tenant) unreadable, or fail the tenant's calls."""
    for kind in ("music", "announcement", "ringback"):
        response = upload(client, tokens["tenant"], kind, "x-pre-process", short_wav)
        assert response.status_code == 422, response.json
        assert "x-pre-process (a FreeSWITCH directive)" in response.json["error"]
    assert listed(client, tokens["tenant"]) == []


def test_database_down_answers_not_found(media_dir):
    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app(
        Settings(xmlcurl_credentials=XMLCURL_CREDENTIALS, media_dir=str(media_dir)), dead
    )
    assert is_not_found(xml(post_fetch(app.test_client(), fixture_fields(LOCAL_STREAM))))


def test_loading_the_configuration_costs_one_query(client, tokens, engine, short_wav):
    def fetch():
        xml(post_fetch(client, fixture_fields(LOCAL_STREAM)))

    upload(client, tokens["admin"], "music", "jazz", short_wav)
    one = count_queries(engine, fetch)
    for i in range(4):
        upload(client, tokens["admin"], "music", f"more{i}", short_wav, domain=OTHER)
    assert count_queries(engine, fetch) == one == 1
