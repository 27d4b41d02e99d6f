"""SIPp scenarios for the end-to-end tests, generated per test so that each pins the
exact SIP outcome FreeSWITCH produces. A phone is two SIPp processes: one registers
(digest auth) with a Contact on the port where the other waits for INVITEs."""

from __future__ import annotations

import subprocess
from pathlib import Path

_HEADER = '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
_SDP = (
    "v=0\n"
    "o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]\n"
    "s=-\n"
    "c=IN IP[media_ip_type] [media_ip]\n"
    "t=0 0\n"
    "m=audio [media_port] RTP/AVP 0\n"
    "a=rtpmap:0 PCMU/8000\n"
)


def _message(*lines: str, body: str = "") -> str:
    text = "\n".join(lines) + "\n"
    if body:
        text += "Content-Type: application/sdp\nContent-Length: [len]\n\n" + body
    else:
        text += "Content-Length: 0\n\n"
    return f"<![CDATA[\n{text}]]>"


def _ok(*headers: str) -> str:
    """200 OK to the request just received (NOTIFY, BYE…), in its dialog."""
    return _message(
        "SIP/2.0 200 OK",
        "[last_Via:]",
        "[last_From:]",
        "[last_To:]",
        "[last_Call-ID:]",
        "[last_CSeq:]",
        *headers,
    )


def register(user: str, domain: str, contact_port: int, *, expect: int = 200) -> str:
    """REGISTER, answer the digest challenge, expect `expect`."""

    def request(cseq: int, auth: bool) -> str:
        return _message(
            f"REGISTER sip:{domain} SIP/2.0",
            "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
            f"From: <sip:{user}@{domain}>;tag=[pid]reg[call_number]",
            f"To: <sip:{user}@{domain}>",
            "Call-ID: [call_id]",
            f"CSeq: {cseq} REGISTER",
            f"Contact: <sip:{user}@[local_ip]:{contact_port}>",
            *(["[authentication]"] if auth else []),
            "Max-Forwards: 70",
            "Expires: 300",
        )

    return (
        _HEADER
        + f"""<scenario name="register {user}">
<send retrans="500">{request(1, False)}</send>
<recv response="401" auth="true"/>
<send retrans="500">{request(2, True)}</send>
<recv response="{expect}"/>
</scenario>
"""
    )


def phone(answer: int) -> str:
    """Wait for one INVITE; ring, then answer `answer` (200: take the call until BYE;
    0: ring until the call is cancelled)."""

    def response(status: str, body: str = "") -> str:
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

    ok = _ok()
    # FreeSWITCH may open a NOTIFY dialog (message waiting) before the call: answer it
    # and end that dialog; an INVITE dialog runs the call.
    steps = [
        '<recv request="NOTIFY" optional="true" next="notify"/>',
        '<recv request="INVITE" crlf="true"/>',
        f"<send>{response('180 Ringing')}</send>",
        '<pause milliseconds="200"/>',
    ]
    if answer == 200:
        steps += [
            f'<send retrans="500">{response("200 OK", _SDP)}</send>',
            '<recv request="ACK"/>',
            '<recv request="BYE"/>',
            f'<send next="end">{ok}</send>',
        ]
    elif answer == 0:
        terminated = _message(
            "SIP/2.0 487 Request Terminated",
            "[last_Via:]",
            "[last_From:]",
            "[last_To:];tag=[pid]uas[call_number]",
            "[last_Call-ID:]",
            "CSeq: [last_cseq_number] INVITE",
        )
        steps += [
            '<recv request="CANCEL"/>',
            f"<send>{ok}</send>",
            f"<send>{terminated}</send>",
            '<recv request="ACK" next="end"/>',
        ]
    else:
        steps += [
            f"<send>{response(f'{answer} Refused')}</send>",
            '<recv request="ACK" next="end"/>',
        ]
    steps += ['<label id="notify"/>', f"<send>{ok}</send>", '<label id="end"/>']
    return (
        _HEADER
        + f'<scenario name="phone answering {answer}">\n'
        + "\n".join(steps)
        + "\n</scenario>\n"
    )


def call(
    caller: str,
    domain: str,
    destination: str,
    *,
    expect: int,
    talk_ms: int = 500,
    callee_hangs_up: bool = False,
) -> str:
    """INVITE `destination` as `caller` (digest auth on the 407), then expect the final
    response `expect`: 200 → ACK, talk, BYE (or wait for the far end's BYE when
    `callee_hangs_up`); anything else → ACK."""

    def invite(cseq: int, auth: bool) -> str:
        return _message(
            f"INVITE sip:{destination}@{domain} SIP/2.0",
            "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
            f"From: <sip:{caller}@{domain}>;tag=[pid]uac[call_number]",
            f"To: <sip:{destination}@{domain}>",
            "Call-ID: [call_id]",
            f"CSeq: {cseq} INVITE",
            f"Contact: <sip:{caller}@[local_ip]:[local_port]>",
            *(["[authentication]"] if auth else []),
            "Max-Forwards: 70",
            body=_SDP,
        )

    def ack_to_error(cseq: int) -> str:
        # Part of the INVITE transaction: same branch (the Via the response carries).
        return _message(
            f"ACK sip:{destination}@{domain} SIP/2.0",
            "[last_Via:]",
            "[last_From:]",
            "[last_To:]",
            "[last_Call-ID:]",
            f"CSeq: {cseq} ACK",
            "Max-Forwards: 70",
        )

    steps = [
        f'<send retrans="500">{invite(1, False)}</send>',
        '<recv response="100" optional="true"/>',
        '<recv response="407" auth="true"/>',
        f"<send>{ack_to_error(1)}</send>",
        f'<send retrans="500">{invite(2, True)}</send>',
        '<recv response="100" optional="true"/>',
        '<recv response="180" optional="true"/>',
        '<recv response="183" optional="true"/>',
        '<recv response="180" optional="true"/>',
        f'<recv response="{expect}" rrs="true"/>',
    ]
    if expect == 200:
        in_dialog = [
            "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
            f"From: <sip:{caller}@{domain}>;tag=[pid]uac[call_number]",
            "[last_To:]",
            "Call-ID: [call_id]",
        ]
        steps.append(
            "<send>"
            + _message("ACK [next_url] SIP/2.0", *in_dialog, "CSeq: 2 ACK", "Max-Forwards: 70")
            + "</send>"
        )
        if callee_hangs_up:
            steps += [
                '<recv request="BYE"/>',
                "<send>"
                + _message(
                    "SIP/2.0 200 OK",
                    "[last_Via:]",
                    "[last_From:]",
                    "[last_To:]",
                    "[last_Call-ID:]",
                    "[last_CSeq:]",
                )
                + "</send>",
            ]
        else:
            steps += [
                f'<pause milliseconds="{talk_ms}"/>',
                '<send retrans="500">'
                + _message("BYE [next_url] SIP/2.0", *in_dialog, "CSeq: 3 BYE", "Max-Forwards: 70")
                + "</send>",
                '<recv response="200"/>',
            ]
    else:
        steps.append(f"<send>{ack_to_error(2)}</send>")
    return (
        _HEADER
        + f'<scenario name="call {destination} expecting {expect}">\n'
        + "\n".join(steps)
        + "\n</scenario>\n"
    )


def carrier_call(number: str, caller: str, host: str, *, hold_ms: int) -> str:
    """A carrier's call in: INVITE `number` (no authentication, as trunks send them),
    expect 200, hold the call `hold_ms`, then hang up and expect the 200 that shows the
    call was still up (a BYE from FreeSWITCH meanwhile fails the scenario)."""
    in_dialog = [
        "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
        f"From: <sip:{caller}@[local_ip]>;tag=[pid]in[call_number]",
        "[last_To:]",
        "Call-ID: [call_id]",
    ]
    steps = [
        '<send retrans="500">'
        + _message(
            f"INVITE sip:{number}@{host} SIP/2.0",
            "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
            f"From: <sip:{caller}@[local_ip]>;tag=[pid]in[call_number]",
            f"To: <sip:{number}@{host}>",
            "Call-ID: [call_id]",
            "CSeq: 1 INVITE",
            f"Contact: <sip:{caller}@[local_ip]:[local_port]>",
            "Max-Forwards: 70",
            body=_SDP,
        )
        + "</send>",
        '<recv response="100" optional="true"/>',
        '<recv response="180" optional="true"/>',
        '<recv response="183" optional="true"/>',
        '<recv response="180" optional="true"/>',
        '<recv response="200" rrs="true"/>',
        "<send>"
        + _message("ACK [next_url] SIP/2.0", *in_dialog, "CSeq: 1 ACK", "Max-Forwards: 70")
        + "</send>",
        f'<pause milliseconds="{hold_ms}"/>',
        '<send retrans="500">'
        + _message("BYE [next_url] SIP/2.0", *in_dialog, "CSeq: 2 BYE", "Max-Forwards: 70")
        + "</send>",
        '<recv response="200"/>',
    ]
    return (
        _HEADER
        + f'<scenario name="carrier calling {number}">\n'
        + "\n".join(steps)
        + "\n</scenario>\n"
    )


def watcher(user: str, domain: str, key: str, states: list[str]) -> str:
    """A phone's BLF key: SUBSCRIBE (Event: dialog) as `user` to `key` (`dnd+1001`,
    `1001`…), answer the digest challenge, then answer every NOTIFY until one whose
    dialog is in each of `states` has come, in that order (`confirmed`: lit,
    `early`: blinking, `terminated`: off)."""

    def subscribe(cseq: int, auth: bool) -> str:
        return _message(
            f"SUBSCRIBE sip:{key}@{domain} SIP/2.0",
            "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
            f"From: <sip:{user}@{domain}>;tag=[pid]blf[call_number]",
            f"To: <sip:{key}@{domain}>",
            "Call-ID: [call_id]",
            f"CSeq: {cseq} SUBSCRIBE",
            f"Contact: <sip:{user}@[local_ip]:[local_port]>",
            *(["[authentication]"] if auth else []),
            "Event: dialog",
            "Accept: application/dialog-info+xml",
            "Expires: 300",
            "Max-Forwards: 70",
        )

    ok = _ok("Contact: <sip:[local_ip]:[local_port]>")
    steps = [
        f'<send retrans="500">{subscribe(1, False)}</send>',
        '<recv response="401" auth="true" optional="true" next="challenged"/>',
        '<recv response="407" auth="true"/>',
        '<label id="challenged"/>',
        f'<send retrans="500">{subscribe(2, True)}</send>',
        '<recv response="200" optional="true" next="subscribed"/>',
        '<recv response="202"/>',
        '<label id="subscribed"/>',
    ]
    for k, state in enumerate(states):
        steps += [
            f'<label id="wait{k}"/>',
            '<recv request="NOTIFY"><action>'
            f'<ereg regexp="&lt;state[^&gt;]*&gt;{state}&lt;/state&gt;" search_in="body" '
            f'check_it="false" assign_to="seen{k}"/>'
            "</action></recv>",
            f'<send next="got{k}" test="seen{k}">{ok}</send>',
            f'<nop next="wait{k}"/>',
            f'<label id="got{k}"/>',
        ]
    return (
        _HEADER
        + f'<scenario name="{user} watching {key}">\n'
        + "\n".join(steps)
        + "\n</scenario>\n"
    )


def command(
    scenario: str,
    workdir: Path,
    name: str,
    remote: str,
    *,
    port: int,
    user: str = "",
    password: str = "",
    timeout: int = 40,
    answer_notify: bool = True,
) -> list[str]:
    path = workdir / f"{name}.xml"
    path.write_text(scenario)
    argv = [
        "sipp",
        remote,
        "-sf",
        str(path),
        "-m",
        "1",
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-nostdin",
        "-timeout",
        f"{timeout}s",
        "-timeout_error",
        "-trace_err",
        "-error_file",
        str(workdir / f"{name}.errors"),
        "-trace_msg",
        "-message_file",
        str(workdir / f"{name}.messages"),
    ]
    if answer_notify:
        # Answer NOTIFY (message waiting), OPTIONS and the like by themselves.
        argv.append("-aa")
    if user:
        argv += ["-au", user, "-ap", password]
    return argv


def run(argv: list[str], timeout: int = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, capture_output=True, timeout=timeout)
