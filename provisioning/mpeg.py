"""The frame structure of an MP3 (MPEG-1/2/2.5 Layer III) file, read from its bytes.

Pure: bytes in, facts or `MpegInvalid` out; no decoding. libsndfile decodes MP3 but
says nothing when a file is cut short, and for a variable-bitrate file without a
length header it guesses the length from the first frame and stops reading there.
Walking the frame headers tells how many frames the file holds, whether the last one
is whole, and whether that matches what a Xing/Info or VBRI header announces.
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioning.errors import DomainError, said

_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
# Version bits → sample rates; 1 is reserved.
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_MPEG1 = 3
_LAYER_III = 1
_MONO = 3
# What may follow the last frame: ID3v1, APEv2 and Lyrics3 tags.
_TRAILING_TAGS = (b"TAG", b"APETAGEX", b"LYRICSBEGIN")


class MpegInvalid(DomainError, ValueError):
    """Not a whole, undamaged MP3 stream; the message says what is wrong."""


@dataclass(frozen=True)
class FrameHeader:
    mpeg1: bool
    mono: bool
    sample_rate: int
    length: int  # bytes, header included

    @property
    def samples(self) -> int:
        return 1152 if self.mpeg1 else 576


@dataclass(frozen=True)
class MpegStream:
    sample_rate: int
    # Audio frames (an info frame holding a Xing/Info or VBRI header is not one).
    frames: int
    samples_per_frame: int

    @property
    def samples(self) -> int:
        """Samples the frames carry, before the decoder trims encoder delay and padding."""
        return self.frames * self.samples_per_frame


def frame_header(data: bytes, pos: int) -> FrameHeader | None:
    """The Layer III frame header at `pos`, or None if there is none."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    # Free-format bitrate (index 0) has no computable frame length: not accepted.
    if version == 1 or layer != _LAYER_III or bitrate_index in (0, 15) or rate_index == 3:
        return None
    rate = _SAMPLE_RATES[version][rate_index]
    mpeg1 = version == _MPEG1
    kbps = (_BITRATES_V1 if mpeg1 else _BITRATES_V2)[bitrate_index]
    length = (144 if mpeg1 else 72) * kbps * 1000 // rate + padding
    return FrameHeader(mpeg1, b3 >> 6 == _MONO, rate, length)


def id3v2_length(data: bytes) -> int:
    """Bytes taken by an ID3v2 tag at the start (0 if none)."""
    if len(data) < 10 or data[:3] != b"ID3":
        return 0
    size = 0
    for byte in data[6:10]:  # "syncsafe": 7 bits per byte
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def looks_like_mp3(data: bytes) -> bool:
    return data[:3] == b"ID3" or frame_header(data, 0) is not None


def _announced_frames(frame: bytes, header: FrameHeader) -> int | None:
    """Audio frames announced by a Xing/Info or VBRI header in the first frame."""
    # The header sits after the frame header (4 bytes) and the side information.
    side_info = {(True, True): 17, (True, False): 32, (False, True): 9, (False, False): 17}
    xing = 4 + side_info[header.mpeg1, header.mono]
    if frame[xing : xing + 4] in (b"Xing", b"Info"):
        flags = int.from_bytes(frame[xing + 4 : xing + 8], "big")
        if flags & 1:
            return int.from_bytes(frame[xing + 8 : xing + 12], "big")
        return None
    if frame[36:40] == b"VBRI":
        return int.from_bytes(frame[50:54], "big")
    return None


def scan(data: bytes) -> MpegStream:
    """Walk every frame; raise MpegInvalid when the stream is damaged or cut short."""
    pos = id3v2_length(data)
    first = frame_header(data, pos)
    if first is None:
        raise MpegInvalid(
            said(
                "mp3_no_frame",
                "no MP3 (MPEG Layer III) audio frame where the audio should start",
            )
        )
    announced = _announced_frames(data[pos : pos + first.length], first)
    info_frame = announced is not None or data[pos + 36 : pos + 40] == b"VBRI"
    frames = 0
    while pos < len(data):
        header = frame_header(data, pos)
        if header is None:
            rest = data[pos:]
            if rest.startswith(_TRAILING_TAGS) or not rest.strip(b"\x00"):
                break
            raise MpegInvalid(
                said("mp3_damaged", "damaged: no MP3 frame at byte %(byte)d", byte=pos)
            )
        if header.sample_rate != first.sample_rate:
            raise MpegInvalid(
                said(
                    "mp3_sample_rate",
                    "damaged: the sample rate changes at byte %(byte)d",
                    byte=pos,
                )
            )
        if pos + header.length > len(data):
            raise MpegInvalid(said("mp3_cut_short", "truncated: the last MP3 frame is cut short"))
        frames += 1
        pos += header.length
    if info_frame:
        frames -= 1
    if announced is not None and frames < announced:
        raise MpegInvalid(
            said(
                "mp3_truncated",
                "truncated: its header announces %(announced)d frames, %(found)d are there",
                announced=announced,
                found=frames,
            )
        )
    if frames < 1:
        raise MpegInvalid(said("mp3_no_audio", "no audio: the MP3 holds no audio frame"))
    return MpegStream(first.sample_rate, frames, first.samples)
