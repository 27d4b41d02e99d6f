"""SIPp scenarios for transfers: a phone that takes a call and then transfers it by
REFER in that call's dialog (blind, or attended with `Replaces`), and a phone that
sends RFC 2833 digits in a call. Built on the message helpers of `tests.e2e.sipp`."""

from __future__ import annotations

import struct
from pathlib import Path
from xml.sax.saxutils import quoteattr

from tests.e2e.sipp import _HEADER, _SDP, _message, _ok


def _answer(status: str, body: str = "") -> str:
    return _message(
        f"SIP/2.0 {status}",
        "[last_Via:]",
        "[last_From:]",
        "[last_To:];tag=[pid]uas[call_number]",
        "[last_Call-ID:]",
        "[last_CSeq:]",
        "Contact: <sip:[local_ip]:[local_port]>",
        body=body,
    )


def _take_call(*, keep_dialog: bool = True, sdp: str = _SDP) -> list[str]:
    """Wait for the INVITE, ring, answer, get the ACK; `keep_dialog`: keep who called
    (From, with its tag) and where to send requests in this dialog (the Contact), for
    a REFER (SIPp refuses variables it never uses)."""
    keep = (
        "<action>"
        '<ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="peer"/>'
        '<ereg regexp="sip:[^&gt;;]*" search_in="hdr" header="Contact:" check_it="true" '
        'assign_to="target"/>'
        "</action>"
    )
    return [
        '<recv request="NOTIFY" optional="true" next="notify"/>',
        f'<recv request="INVITE" crlf="true">{keep if keep_dialog else ""}</recv>',
        f"<send>{_answer('180 Ringing')}</send>",
        '<pause milliseconds="200"/>',
        f'<send retrans="500">{_answer("200 OK", sdp)}</send>',
        '<recv request="ACK"/>',
    ]


def _refer(user: str, domain: str, refer_to: str) -> str:
    """REFER in the call's dialog: this phone is the UAS, so From is the INVITE's To
    (with the tag we gave) and To is the INVITE's From."""
    return _message(
        "REFER [$target] SIP/2.0",
        "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
        f"From: <sip:{user}@{domain}>;tag=[pid]uas[call_number]",
        "To: [$peer]",
        "Call-ID: [call_id]",
        "CSeq: 1 REFER",
        f"Contact: <sip:{user}@[local_ip]:[local_port]>",
        f"Refer-To: {refer_to}",
        f"Referred-By: <sip:{user}@{domain}>",
        "Max-Forwards: 70",
    )


def transferring_phone(user: str, domain: str, refer_to: str, *, talk_ms: int = 1000) -> str:
    """Take one call, talk `talk_ms`, then REFER it to `refer_to` (a Refer-To value,
    e.g. `<sip:1002@host>`), expect 202 Accepted and the BYE that ends this phone's
    part (NOTIFYs of the transfer's progress are answered by SIPp's -aa)."""
    steps = [
        *_take_call(),
        f'<pause milliseconds="{talk_ms}"/>',
        f'<send retrans="500">{_refer(user, domain, refer_to)}</send>',
        '<recv response="202"/>',
        '<recv request="BYE"/>',
        f'<send next="end">{_ok()}</send>',
        '<label id="notify"/>',
        f"<send>{_ok()}</send>",
        '<label id="end"/>',
    ]
    return (
        _HEADER
        + f"<scenario name={quoteattr(f'{user} transferring to {refer_to}')}>\n"
        + "\n".join(steps)
        + "\n</scenario>\n"
    )


def refer_refused_phone(user: str, domain: str, refer_to: str, *, refused: int) -> str:
    """Take one call, REFER it to `refer_to` and expect the REFER refused with
    `refused`; then wait for the BYE."""
    steps = [
        *_take_call(),
        '<pause milliseconds="500"/>',
        f'<send retrans="500">{_refer(user, domain, refer_to)}</send>',
        f'<recv response="{refused}"/>',
        '<recv request="BYE"/>',
        f'<send next="end">{_ok()}</send>',
        '<label id="notify"/>',
        f"<send>{_ok()}</send>",
        '<label id="end"/>',
    ]
    return (
        _HEADER
        + f"<scenario name={quoteattr(f'{user} refused transfer to {refer_to}')}>\n"
        + "\n".join(steps)
        + "\n</scenario>\n"
    )


def replaces(call_id: str, to_tag: str, from_tag: str) -> str:
    """The Refer-To header parameter naming the dialog an attended transfer replaces,
    escaped for a URI header (RFC 3891)."""
    return f"Replaces={call_id}%3Bto-tag%3D{to_tag}%3Bfrom-tag%3D{from_tag}"


def consulting_call(
    caller: str, domain: str, destination: str, refer_to: str, *, talk_ms: int = 1500
) -> str:
    """The consultation of an attended transfer: as `caller` (digest auth), call
    `destination`, talk `talk_ms`, then REFER this call to `refer_to` (the held call,
    with its `Replaces`) and expect 202 and the BYE ending this phone's part."""

    def invite(cseq: int, auth: bool) -> str:
        return _message(
            f"INVITE sip:{destination}@{domain} SIP/2.0",
            "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
            f"From: <sip:{caller}@{domain}>;tag=consult[call_number]",
            f"To: <sip:{destination}@{domain}>",
            "Call-ID: [call_id]",
            f"CSeq: {cseq} INVITE",
            f"Contact: <sip:{caller}@[local_ip]:[local_port]>",
            *(["[authentication]"] if auth else []),
            "Max-Forwards: 70",
            body=_SDP,
        )

    in_dialog = [
        "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
        f"From: <sip:{caller}@{domain}>;tag=consult[call_number]",
        "[last_To:]",
        "Call-ID: [call_id]",
    ]
    ack_407 = _message(
        f"ACK sip:{destination}@{domain} SIP/2.0",
        "[last_Via:]",
        "[last_From:]",
        "[last_To:]",
        "[last_Call-ID:]",
        "CSeq: 1 ACK",
        "Max-Forwards: 70",
    )
    steps = [
        f'<send retrans="500">{invite(1, False)}</send>',
        '<recv response="100" optional="true"/>',
        '<recv response="407" auth="true"/>',
        f"<send>{ack_407}</send>",
        f'<send retrans="500">{invite(2, True)}</send>',
        '<recv response="100" optional="true"/>',
        '<recv response="180" optional="true"/>',
        '<recv response="183" optional="true"/>',
        '<recv response="180" optional="true"/>',
        '<recv response="200" rrs="true"/>',
        "<send>"
        + _message("ACK [next_url] SIP/2.0", *in_dialog, "CSeq: 2 ACK", "Max-Forwards: 70")
        + "</send>",
        f'<pause milliseconds="{talk_ms}"/>',
        '<send retrans="500">'
        + _message(
            "REFER [next_url] SIP/2.0",
            *in_dialog,
            "CSeq: 3 REFER",
            f"Contact: <sip:{caller}@[local_ip]:[local_port]>",
            f"Refer-To: {refer_to}",
            f"Referred-By: <sip:{caller}@{domain}>",
            "Max-Forwards: 70",
        )
        + "</send>",
        '<recv response="202"/>',
        '<recv request="BYE"/>',
        f"<send>{_ok()}</send>",
    ]
    return (
        _HEADER
        + f'<scenario name="{caller} consulting {destination}">\n'
        + "\n".join(steps)
        + "\n</scenario>\n"
    )


def held_phone(user: str, domain: str, *, hold_ms: int = 30000, audio: str = "") -> str:
    """Take one call and stay in it until FreeSWITCH ends it (BYE), for at most
    `hold_ms`; with `audio` (a pcap of RTP, see `silence`), send it, as a
    real phone sends its microphone (FreeSWITCH runs a leg's queued applications, such
    as a DTMF transfer, as the leg's media flows)."""
    media = [f'<nop><action><exec play_pcap_audio="{audio}"/></action></nop>'] if audio else []
    steps = [
        *_take_call(keep_dialog=False),
        *media,
        '<recv request="BYE" timeout="' + str(hold_ms) + '"/>',
        f'<send next="end">{_ok()}</send>',
        '<label id="notify"/>',
        f"<send>{_ok()}</send>",
        '<label id="end"/>',
    ]
    return (
        _HEADER
        + f'<scenario name="{user} holding a call">\n'
        + "\n".join(steps)
        + "\n</scenario>\n"
    )


def silence(path: Path, seconds: int = 30) -> Path:
    """A capture (pcap) of `seconds` of PCMU silence in RTP packets of 20 ms, for
    `held_phone`: SIPp's play_pcap_audio sends its payloads to the far end's media
    address, paced by their timestamps."""
    packets = []
    for n in range(seconds * 50):
        rtp = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, n * 160, 0x43454E54) + b"\xff" * 160
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = (
            struct.pack(
                "!BBHHHBBH4s4s",
                0x45,
                0,
                20 + len(udp),
                n & 0xFFFF,
                0,
                64,
                17,
                0,
                bytes([127, 0, 0, 1]),
                bytes([127, 0, 0, 1]),
            )
            + udp
        )
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        micros = n * 20_000
        packets.append(
            struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame), len(frame))
            + frame
        )
    # pcap global header: magic, version 2.4, zone, accuracy, snap length, Ethernet.
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + b"".join(packets))
    return path
