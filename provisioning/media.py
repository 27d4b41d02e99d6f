"""Tenant media: announcements, hold music and ringback tones.

Rules (kinds, names, limits), the conversion of an uploaded WAV or MP3 into what
FreeSWITCH plays natively, and where the converted files live. `convert` does no I/O
beyond memory; `MediaStore` writes files and nothing else.

Each media is stored as 16-bit PCM mono WAV at 8 kHz and at 16 kHz, in FreeSWITCH's
own sound layout: `<domain>/<kind>/<name>/<rate>/<name>.wav`. Asked to play
`<domain>/<kind>/<name>/<name>.wav`, mod_sndfile opens the `<channel rate>/` file beside
it, else the highest rate there is, so 8 kHz and 16 kHz calls get their own rendition
and wider calls (Opus, 48 kHz) the 16 kHz one, resampled by FreeSWITCH. Hold music is
played by mod_local_stream, which plays every file of one directory: each rate
directory is one stream (see `xmlcurl.local_stream`).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from provisioning import mpeg
from provisioning import validation as v
from provisioning.errors import DomainError, said

if TYPE_CHECKING:
    import numpy
    import soundfile

ANNOUNCEMENT = "announcement"
MUSIC = "music"
RINGBACK = "ringback"
KINDS = (ANNOUNCEMENT, MUSIC, RINGBACK)
MAX_PER_KIND = 10
MAX_BYTES = 4 * 1024 * 1024
MAX_SECONDS = 600
# Renditions stored, narrowband and wideband; the widest is what wider calls get.
RATES = (8000, 16000)
WIDEST_RATE = max(RATES)
# Peaks are brought down to -1 dBFS: resampling can push a full-scale source over it.
PEAK_CEILING = 10 ** (-1 / 20)

# What a path FreeSWITCH reads may hold: no `$` (expanded), no space or `,|!` (which
# separate files and arguments in FreeSWITCH's strings), no quotes.
SAFE_PATH = re.compile(r"/[A-Za-z0-9._+/-]*")
_SEGMENT = re.compile(r"(?!\.{1,2}$)[a-z0-9._-]{1,253}")
# mod_local_stream builds "<directory>/<file name>" in a 512-byte buffer.
MAX_FREESWITCH_PATH = 511
_STREAM_PREFIX = "centrex"
# What the decoder reports for the containers the bytes were recognised as.
_DECODER_FORMATS = {"WAV": {"WAV", "WAVEX"}, "MP3": {"MP3"}}


class MediaError(DomainError, ValueError):
    """A media operation refused; the message says why, for the person uploading."""


class MediaInvalid(MediaError):
    """Not acceptable audio, or a bad kind or name."""


class MediaTooLarge(MediaError):
    pass


class MediaLimitReached(MediaError):
    pass


class MediaDirUnsafe(MediaError):
    """The configured media directory cannot be handed to FreeSWITCH."""


_TOO_LONG = said("media_too_long", "longer than %(minutes)d minutes", minutes=MAX_SECONDS // 60)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise MediaInvalid(
            said(
                "media_kind",
                "kind must be one of %(kinds)s, not %(kind)r",
                kinds=", ".join(KINDS),
                kind=kind,
            )
        )
    return kind


def check_name(name: str) -> str:
    try:
        return v.check_media_name(name)
    except v.InvalidValue:
        raise MediaInvalid(
            said(
                "media_file_name",
                "name %(name)r: 1 to 32 lower-case letters, digits, '-' or '_', starting with "
                "a letter or a digit, never holding x-pre-process (a FreeSWITCH directive)",
                name=name,
            )
        ) from None


def check_size(size: int) -> None:
    if size == 0:
        raise MediaInvalid(said("media_empty", "the file is empty"))
    if size > MAX_BYTES:
        raise MediaTooLarge(
            said(
                "media_too_large",
                "the file is larger than %(mib)d MiB",
                mib=MAX_BYTES // (1024 * 1024),
            )
        )


# --- where media live ---------------------------------------------------------------
def media_path(domain: str, kind: str, name: str) -> str:
    """The file FreeSWITCH is told to play, relative to the media directory."""
    return f"{domain}/{kind}/{name}/{name}.wav"


def rendition_dir(path: str, rate: int) -> str:
    """The directory holding the `rate` rendition of the media at `path`."""
    folder, _, _file = path.rpartition("/")
    return f"{folder}/{rate}"


def stream_name(domain: str, name: str) -> str:
    """The mod_local_stream name of a tenant's hold music (`local_stream://<this>`):
    only characters FreeSWITCH passes through untouched (letters, digits, `.-_/`)."""
    return f"{_STREAM_PREFIX}/{domain}/{check_name(name)}"


# --- conversion ---------------------------------------------------------------------
@dataclass(frozen=True)
class Converted:
    # Rate → 16-bit PCM mono WAV file, for every rate in RATES.
    renditions: dict[int, bytes]
    duration_ms: int

    @property
    def size(self) -> int:
        return sum(map(len, self.renditions.values()))


def _container(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "WAV"
    if mpeg.looks_like_mp3(data):
        return "MP3"
    raise MediaInvalid(
        said("media_format", "not a WAV or MP3 file (its content was checked, not its name)")
    )


def _check_wav_chunks(data: bytes) -> None:
    """A WAV cut short still decodes (shorter): refuse it instead."""
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk == b"data":
            # Writers that stream leave the size at 0 or all ones: nothing to compare.
            if size not in (0, 0xFFFFFFFF) and pos + 8 + size > len(data):
                raise MediaInvalid(
                    said(
                        "wav_truncated",
                        "truncated: the WAV announces %(announced)d bytes of audio, "
                        "%(found)d are there",
                        announced=size,
                        found=len(data) - pos - 8,
                    )
                )
            return
        pos += 8 + size + (size & 1)
    raise MediaInvalid(said("wav_no_data", "damaged: the WAV holds no audio data"))


def _decode_mono(source: soundfile.SoundFile, max_frames: int) -> numpy.ndarray:
    """The audio at WIDEST_RATE, mono, float32; decoded one second at a time so that
    memory follows the output, not the (possibly wider, stereo) input."""
    import numpy as np
    import soxr

    resampler = soxr.ResampleStream(source.samplerate, WIDEST_RATE, 1, dtype="float32")
    chunks = []
    decoded = 0
    for block in source.blocks(blocksize=source.samplerate, dtype="float32", always_2d=True):
        decoded += len(block)
        if decoded > max_frames:
            raise MediaInvalid(_TOO_LONG)
        chunks.append(resampler.resample_chunk(block.mean(axis=1, dtype=np.float32)))
    chunks.append(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
    return np.concatenate(chunks)


def _wav(signal: numpy.ndarray, rate: int) -> bytes:
    import numpy as np
    import soundfile

    pcm = np.round(np.clip(signal, -1.0, 1.0) * 32767).astype(np.int16)
    out = io.BytesIO()
    soundfile.write(out, pcm, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def _structure(data: bytes, container: str) -> mpeg.MpegStream | None:
    """Refuse a damaged or cut-short file before decoding it (libsndfile would not)."""
    try:
        if container == "MP3":
            return mpeg.scan(data)
        _check_wav_chunks(data)
        return None
    except mpeg.MpegInvalid as exc:
        raise MediaInvalid(exc.said) from None


def _decode(data: bytes, container: str, stream: mpeg.MpegStream | None) -> numpy.ndarray:
    import soundfile

    try:
        with soundfile.SoundFile(io.BytesIO(data)) as source:
            if source.format not in _DECODER_FORMATS[container]:
                raise MediaInvalid(
                    said(
                        "media_decodes_as",
                        "not a WAV or MP3 file (it decodes as %(format)s)",
                        format=str(source.format),
                    )
                )
            frames = source.frames
            if stream is not None:
                # libsndfile stops where it believes an MP3 ends. Its count lacks the
                # encoder delay and padding it trims (under 3 frames), and is an
                # estimate, close for a constant bitrate, for files without a header.
                slack = max(3 * stream.samples_per_frame, stream.samples // 50)
                if frames < stream.samples - slack:
                    raise MediaInvalid(
                        said(
                            "mp3_no_length",
                            "variable-bitrate MP3 without a length (Xing) header: it cannot be "
                            "read whole; encode it again, or send a WAV",
                        )
                    )
                frames = min(frames, stream.samples)
            max_frames = MAX_SECONDS * source.samplerate
            if frames > max_frames:
                raise MediaInvalid(_TOO_LONG)
            return _decode_mono(source, max_frames)
    except soundfile.SoundFileError as exc:
        reason = getattr(exc, "error_string", "") or str(exc)
        raise MediaInvalid(
            said(
                "media_damaged",
                "damaged %(container)s: %(reason)s",
                container=container,
                reason=str(reason),
            )
        ) from None


def _renditions(wide: numpy.ndarray) -> dict[int, bytes]:
    """Every rate from the widest, with one gain for all: peaks at most PEAK_CEILING."""
    import numpy as np
    import soxr

    signals = {
        rate: wide if rate == WIDEST_RATE else soxr.resample(wide, WIDEST_RATE, rate)
        for rate in RATES
    }
    peak = max(float(np.max(np.abs(signal))) for signal in signals.values())
    gain = PEAK_CEILING / peak if peak > PEAK_CEILING else 1.0
    return {rate: _wav(signal * gain, rate) for rate, signal in signals.items()}


def convert(data: bytes) -> Converted:
    """WAV or MP3 bytes → 16-bit PCM mono WAV at each of RATES, peaks at most -1 dBFS.

    The format is recognised from the content and must be confirmed by the decoder;
    anything empty, larger than MAX_BYTES, longer than MAX_SECONDS, damaged or cut
    short raises MediaInvalid (MediaTooLarge for size) with a message for the uploader.
    numpy, soundfile and soxr are imported here, not by every process that imports
    the rules above.
    """
    check_size(len(data))
    container = _container(data)
    wide = _decode(data, container, _structure(data, container))
    if not len(wide):
        raise MediaInvalid(said("media_no_audio", "no audio: the file holds no sound samples"))
    return Converted(_renditions(wide), duration_ms=round(len(wide) * 1000 / WIDEST_RATE))


# --- storage ------------------------------------------------------------------------
class MediaStore:
    """Converted media under one directory, which FreeSWITCH must read too (the same
    path on every node). Files are written to a temporary name beside the tree and
    renamed into place, so FreeSWITCH never opens half a file; they are readable by
    all, as FreeSWITCH runs under its own user."""

    def __init__(self, root: Path) -> None:
        if not SAFE_PATH.fullmatch(str(root)):
            raise MediaDirUnsafe(
                f"media directory {root}: FreeSWITCH reads this path; use letters, digits "
                "and . _ + - / only"
            )
        self.root = root

    def _dir(self, *segments: str) -> Path:
        for segment in segments:
            if not _SEGMENT.fullmatch(segment):
                raise MediaInvalid(f"refusing the path segment {segment!r}")
        return self.root.joinpath(*segments)

    def check_fits(self, domain: str, kind: str, name: str) -> None:
        """FreeSWITCH's path buffers must hold the longest path of this media."""
        longest = self.root / rendition_dir(media_path(domain, kind, name), WIDEST_RATE)
        if len(str(longest)) + 1 + len(name) + len(".wav") > MAX_FREESWITCH_PATH:
            raise MediaInvalid(
                f"the path of {kind} {name!r} would exceed FreeSWITCH's "
                f"{MAX_FREESWITCH_PATH} characters: use a shorter name or media directory"
            )

    def write(self, domain: str, kind: str, name: str, converted: Converted) -> str:
        """Store every rendition; returns the path FreeSWITCH plays, relative to root."""
        self.check_fits(domain, kind, name)
        incoming = self.root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        path = media_path(domain, kind, name)
        for rate, wav in converted.renditions.items():
            target = self._dir(domain, kind, name, str(rate)) / f"{name}.wav"
            target.parent.mkdir(parents=True, exist_ok=True)
            _replace_atomically(target, wav, incoming)
        return path

    def remove(self, domain: str, kind: str, name: str) -> None:
        shutil.rmtree(self._dir(domain, kind, name), ignore_errors=True)

    def remove_tenant(self, domain: str) -> None:
        shutil.rmtree(self._dir(domain), ignore_errors=True)


def _replace_atomically(target: Path, content: bytes, scratch: Path) -> None:
    # The scratch directory is on the same file system, outside every directory a
    # stream lists (mod_local_stream would play a file still being written).
    fd, tmp = tempfile.mkstemp(dir=scratch, suffix=".wav")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
