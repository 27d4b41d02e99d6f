"""Media conversion, MP3 frame checks, names and the file store (no database).

Inputs are real files made here: WAV and FLAC by libsndfile, MP3 by the LAME encoder
libsndfile bundles.
"""

import io
import stat

import numpy as np
import pytest
import soundfile

from provisioning import media, mpeg

CEILING = round(media.PEAK_CEILING * 32767) + 1


def tone(rate: int, seconds: float, channels: int = 1, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    left = amplitude * np.sin(2 * np.pi * 440 * t)
    if channels == 1:
        return left
    right = amplitude * np.sin(2 * np.pi * 440 * t + 0.3)
    return np.stack([left, right], axis=1)


def encoded(signal: np.ndarray, rate: int, fmt: str, subtype: str | None = None, **kw) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, signal, rate, format=fmt, subtype=subtype, **kw)
    return out.getvalue()


def wav(signal, rate, subtype="PCM_16") -> bytes:
    return encoded(signal, rate, "WAV", subtype)


def mp3(signal, rate, **kw) -> bytes:
    return encoded(signal, rate, "MP3", "MPEG_LAYER_III", **kw)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * rate / len(samples))


def check_renditions(converted: media.Converted, seconds: float) -> None:
    assert set(converted.renditions) == {8000, 16000}
    assert abs(converted.duration_ms - seconds * 1000) <= 30
    for rate, data in converted.renditions.items():
        info = soundfile.info(io.BytesIO(data))
        assert (info.format, info.subtype) == ("WAV", "PCM_16")
        assert (info.samplerate, info.channels) == (rate, 1)
        assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
        samples, _ = soundfile.read(io.BytesIO(data), dtype="int16")
        assert abs(len(samples) / rate - seconds) <= 0.03
        assert np.abs(samples.astype(np.int32)).max() <= CEILING
        assert abs(dominant_hz(samples.astype(float), rate) - 440) < 5


def test_wav_44k_stereo_becomes_mono_pcm16_at_8_and_16_khz():
    converted = media.convert(wav(tone(44100, 3, channels=2), 44100))
    check_renditions(converted, 3)
    assert converted.size == sum(len(d) for d in converted.renditions.values())


def test_mp3_from_a_real_encoder_is_converted():
    data = mp3(tone(44100, 4, channels=2), 44100)
    assert mpeg.looks_like_mp3(data)
    check_renditions(media.convert(data), 4)


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 48000])
def test_any_input_rate_is_converted(rate):
    check_renditions(media.convert(wav(tone(rate, 2), rate)), 2)


def test_an_mp3_behind_an_id3_tag_is_read():
    body = mp3(tone(22050, 2), 22050)
    frame_text = b"TIT2" + (6).to_bytes(4, "big") + b"\x00\x00" + b"\x00Hold!"
    tag = b"ID3\x03\x00\x00" + bytes([0, 0, 0, len(frame_text)]) + frame_text
    check_renditions(media.convert(tag + body), 2)


def test_full_scale_input_is_brought_under_the_ceiling_quiet_input_kept():
    square = np.sign(tone(44100, 2, amplitude=1.0))
    loud = media.convert(wav(square, 44100, "FLOAT"))
    for data in loud.renditions.values():
        samples, _ = soundfile.read(io.BytesIO(data), dtype="int16")
        assert CEILING - 400 < np.abs(samples.astype(np.int32)).max() <= CEILING
    quiet = media.convert(wav(tone(16000, 2, amplitude=0.1), 16000))
    samples, _ = soundfile.read(io.BytesIO(quiet.renditions[16000]))
    assert 0.095 < np.abs(samples).max() < 0.105


def test_a_renamed_text_file_is_refused():
    with pytest.raises(media.MediaInvalid, match="not a WAV or MP3 file"):
        media.convert(b"This is not audio at all, whatever the name says.\n" * 20)


def test_other_audio_formats_are_refused():
    with pytest.raises(media.MediaInvalid, match="not a WAV or MP3 file"):
        media.convert(encoded(tone(16000, 1), 16000, "FLAC", "PCM_16"))


def test_an_empty_file_is_refused():
    with pytest.raises(media.MediaInvalid, match="empty"):
        media.convert(b"")


def test_more_than_4_mib_is_too_large():
    with pytest.raises(media.MediaTooLarge, match="4 MiB"):
        media.convert(wav(tone(16000, 1), 16000).ljust(media.MAX_BYTES + 1, b"\x00"))


def test_longer_than_10_minutes_is_refused():
    # IMA ADPCM at 8 kHz: 4 bits a sample, so 601 s fit in 2.4 MB.
    data = wav(tone(8000, 601), 8000, "IMA_ADPCM")
    assert len(data) < media.MAX_BYTES
    with pytest.raises(media.MediaInvalid, match="longer than 10 minutes"):
        media.convert(data)


@pytest.mark.parametrize("cut", [1, 300, 0.5])
def test_a_truncated_mp3_is_refused(cut):
    data = mp3(tone(44100, 3, channels=2), 44100)
    keep = int(len(data) * cut) if isinstance(cut, float) else len(data) - cut
    with pytest.raises(media.MediaInvalid, match="truncated"):
        media.convert(data[:keep])


def test_an_mp3_cut_between_frames_is_refused_by_its_xing_header():
    data = mp3(tone(44100, 3), 44100)
    pos = 0
    for _ in range(40):
        header = mpeg.frame_header(data, pos)
        assert header is not None
        pos += header.length
    with pytest.raises(media.MediaInvalid, match=r"announces \d+ frames, 39 are there"):
        media.convert(data[:pos])


def test_a_truncated_wav_is_refused():
    data = wav(tone(16000, 2), 16000)
    with pytest.raises(media.MediaInvalid, match="truncated"):
        media.convert(data[: len(data) // 2])


def test_a_damaged_mp3_is_refused():
    data = mp3(tone(44100, 2), 44100)
    with pytest.raises(media.MediaInvalid, match="damaged"):
        media.convert(data[:2000] + b"\x12\x34" * 50 + data[2000:])


def test_vbr_mp3_without_length_header_is_refused_not_cut_short():
    data = mp3(np.sign(tone(44100, 4)) * 0.5, 44100, bitrate_mode="VARIABLE")
    first = mpeg.frame_header(data, 0)
    with pytest.raises(media.MediaInvalid, match="without a length"):
        media.convert(data[first.length :])


def test_mpeg_frame_header_fields():
    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding, stereo: 417 bytes a frame.
    header = mpeg.frame_header(b"\xff\xfb\x90\x64", 0)
    assert header == mpeg.FrameHeader(mpeg1=True, mono=False, sample_rate=44100, length=417)
    assert header.samples == 1152
    # Layer II, and a free-format bitrate, are not MP3 frames we read.
    assert mpeg.frame_header(b"\xff\xfd\x90\x64", 0) is None
    assert mpeg.frame_header(b"\xff\xfb\x00\x64", 0) is None


@pytest.mark.parametrize("name", ["jazz", "hold-1", "a", "x" * 32, "welcome_fr"])
def test_good_names(name):
    assert media.check_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "Jazz", "-x", "x" * 33, "a b", "a.wav", "../x", "a/b", "café", "a$b"]
)
def test_bad_names_are_refused(name):
    with pytest.raises(media.MediaInvalid, match="lower-case letters"):
        media.check_name(name)


def test_kinds():
    assert media.check_kind("music") == "music"
    with pytest.raises(media.MediaInvalid, match="announcement, music, ringback"):
        media.check_kind("musics")


def test_stream_name_and_paths():
    assert media.stream_name("acme.example", "jazz") == "centrex/acme.example/jazz"
    path = media.media_path("acme.example", "music", "jazz")
    assert path == "acme.example/music/jazz/jazz.wav"
    assert media.rendition_dir(path, 8000) == "acme.example/music/jazz/8000"


def test_store_writes_each_rendition_readable_by_freeswitch(tmp_path):
    store = media.MediaStore(tmp_path)
    converted = media.convert(wav(tone(16000, 1), 16000))
    path = store.write("acme.example", "announcement", "welcome", converted)
    assert path == "acme.example/announcement/welcome/welcome.wav"
    for rate, data in converted.renditions.items():
        file = tmp_path / "acme.example/announcement/welcome" / str(rate) / "welcome.wav"
        assert file.read_bytes() == data
        assert stat.S_IMODE(file.stat().st_mode) == 0o644
    assert list((tmp_path / ".incoming").iterdir()) == []


def test_store_replaces_then_removes(tmp_path):
    store = media.MediaStore(tmp_path)
    first = media.convert(wav(tone(16000, 1), 16000))
    second = media.convert(wav(tone(16000, 2), 16000))
    store.write("acme.example", "music", "jazz", first)
    store.write("acme.example", "music", "jazz", second)
    file = tmp_path / "acme.example/music/jazz/16000/jazz.wav"
    assert file.read_bytes() == second.renditions[16000]
    store.write("acme.example", "ringback", "ring", first)
    store.remove("acme.example", "music", "jazz")
    assert not (tmp_path / "acme.example/music/jazz").exists()
    assert (tmp_path / "acme.example/ringback/ring").exists()
    store.remove_tenant("acme.example")
    assert not (tmp_path / "acme.example").exists()


@pytest.mark.parametrize("root", ["relative/media", "/srv/my media", "/srv/$${x}", "/srv/a,b"])
def test_store_refuses_a_directory_freeswitch_would_misread(root):
    from pathlib import Path

    with pytest.raises(media.MediaDirUnsafe):
        media.MediaStore(Path(root))


def test_store_refuses_paths_too_long_for_freeswitch(tmp_path):
    store = media.MediaStore(tmp_path / ("d" * 200))
    with pytest.raises(media.MediaInvalid, match="exceed FreeSWITCH"):
        store.check_fits("x" * 190 + ".example", "announcement", "n" * 32)
    store.check_fits("short.example", "announcement", "n" * 32)
