"""Every FreeSWITCH name Centrex reads or writes, spelled once.

Request fields (mod_xml_curl form fields), channel variables, dialplan applications,
directory params and hangup causes. Anything FreeSWITCH-specific elsewhere refers here.
"""

# mod_xml_curl base fields (sent unencoded, first in the body).
SECTION = "section"
TAG_NAME = "tag_name"
KEY_NAME = "key_name"
KEY_VALUE = "key_value"
HOSTNAME = "hostname"

# Directory request params.
ACTION = "action"
PURPOSE = "purpose"
USER = "user"
DOMAIN = "domain"
KEY = "key"
EVENT_CALLING_FUNCTION = "Event-Calling-Function"
# When FreeSWITCH made the request (microseconds since the epoch).
EVENT_DATE_TIMESTAMP = "Event-Date-Timestamp"
EVENT_SUBCLASS = "Event-Subclass"
VM_ACTION = "VM-Action"
VM_USER_PASSWORD = "VM-User-Password"
VM_USER = "VM-User"
SIP_AUTH_METHOD = "sip_auth_method"
SIP_TO_HOST = "sip_to_host"
VM_DOMAIN = "VM-Domain"

ACTION_SIP_AUTH = "sip_auth"
ACTION_USER_CALL = "user_call"
ACTION_VOICEMAIL_LOOKUP = "voicemail-lookup"
ACTION_MESSAGE_COUNT = "message-count"
ACTION_REVERSE_AUTH = "reverse-auth-lookup"
ACTION_GROUP_CALL = "group_call"
PURPOSE_GATEWAYS = "gateways"
PURPOSE_NETWORK_LIST = "network-list"
VM_MAINTENANCE = "vm::maintenance"
VM_CHANGE_PASSWORD = "change-password"

# Dialplan request: the caller profile being hunted, and channel variables.
HUNT_DESTINATION = "Hunt-Destination-Number"
HUNT_CONTEXT = "Hunt-Context"
HUNT_CALLER_ID_NUMBER = "Hunt-Caller-ID-Number"
HUNT_CALLER_ID_NAME = "Hunt-Caller-ID-Name"
CALLER_DESTINATION = "Caller-Destination-Number"
CALLER_CONTEXT = "Caller-Context"
CALLER_ID_NUMBER = "Caller-Caller-ID-Number"
CALLER_ID_NAME = "Caller-Caller-ID-Name"
HUNT_PRIVACY_HIDE_NUMBER = "Hunt-Privacy-Hide-Number"
CALLER_PRIVACY_HIDE_NUMBER = "Caller-Privacy-Hide-Number"
UNIQUE_ID = "Unique-ID"
# The number the call was at before its last transfer (or a Diversion): set on every
# hunt after a transfer (switch_ivr_session_transfer), before the hunt runs.
HUNT_RDNIS = "Hunt-RDNIS"
CALLER_RDNIS = "Caller-RDNIS"
VAR_PREFIX = "variable_"

# Channel variables (without the `variable_` prefix).
V_USER_NAME = "user_name"
V_DOMAIN_NAME = "domain_name"
V_ORIGINATE_DISPOSITION = "originate_disposition"
V_HANGUP_AFTER_BRIDGE = "hangup_after_bridge"
# The context a blind transfer (REFER, uuid_transfer) of this channel hunts in; unset,
# the channel's own (`public` for a call from a carrier). switch_ivr_session_transfer.
V_FORCE_TRANSFER_CONTEXT = "force_transfer_context"
V_CONTINUE_ON_FAIL = "continue_on_fail"
V_CALL_TIMEOUT = "call_timeout"
V_CONTINUE_ON_TIMEOUT = "originate_continue_on_timeout"
# Exported before every bridge: the legs a call that FreeSWITCH has already let in rings
# are not refused by sessions-per-second or max-sessions (switch_ivr_originate.c), so
# those limits turn away new calls only, at once, never one routed halfway.
V_NO_THROTTLE_LIMITS = "no_throttle_limits"
V_EFFECTIVE_CID_NAME = "effective_caller_id_name"
V_EFFECTIVE_CID_NUMBER = "effective_caller_id_number"
V_USER_CONTEXT = "user_context"
V_TIMEZONE = "timezone"
# Ours: which destination a failed ring falls back for (set before the bridge, read
# at the next hunt). Remote parties cannot set channel variables of this name.
V_FAILOVER_FOR = "centrex_failover_for"
# What failed, for the next hunt: ringing a line, a forward, or an outbound call.
V_STAGE = "centrex_stage"
# The decisions of the channel's fetches so far (`xmlcurl.route_trail`): the call log's
# "rule applied".
V_ROUTE = "centrex_route"
STAGE_RING = "ring"
STAGE_FORWARD = "forward"
STAGE_OUTBOUND = "outbound"
# Lines a call was forwarded through, comma-separated: a forward back into this list
# is a loop and is not followed.
V_FORWARD_CHAIN = "centrex_forward_chain"
# Set by group routing on calls it hands to a member (forwards marked direct-only and
# the member's voicemail do not apply to those).
V_VIA_GROUP = "centrex_via_group"
# The group's hold music, carried on a loopback leg into the member's own call handling
# (loopback passes leg variables on, not exported ones).
V_GROUP_HOLD_MUSIC = "centrex_group_hold_music"
# The tenant line that called the group, carried the same way: the member's caller
# lists (selective rules, priority callers) recognise it by extension.
V_GROUP_CALLER = "centrex_group_caller"
# Groups and queues (their numbers, comma-separated) a call went through: an overflow
# back into one of them is a loop and ends the call.
V_UNIT_CHAIN = "centrex_unit_chain"
# Set on calls from the public network before they are handed into a tenant's context:
# there they are never taken for a call from one of the tenant's lines.
V_FROM_PUBLIC = "centrex_from_public"
# Who a channel is connected to: every leg of a line (the phone's own call, and each
# `user/` leg ringing it) carries `nolocal:centrex_peer_line=<extension>@<domain>`
# from the directory, listed in `bridge_export_vars`; each bridge copies it, without
# the prefix, onto the other leg (switch_ivr_bridge.c check_bridge_export). So the
# party a phone transfers (REFER) carries who that phone's line is, set by FreeSWITCH
# at the bridge, never by a remote party; and a line's own leg carries itself.
V_PEER_LINE = "centrex_peer_line"
NOLOCAL = "nolocal:"
V_OWN_LINE = NOLOCAL + V_PEER_LINE
V_BRIDGE_EXPORT_VARS = "bridge_export_vars"
# The leg a channel is bridged to now (FreeSWITCH's): a DTMF transfer needs one.
V_BRIDGE_TO = "bridge_to"
# sofia sets it on the party a REFER hands on (the REFER's Refer-To header): the hunt
# is a phone's transfer.
V_SIP_REFER_TO = "sip_refer_to"
# The number a DTMF transfer collects (`read`: DTMF digits only), dialled by att_xfer.
V_TRANSFER_TARGET = "centrex_transfer_target"
# The key starting a DTMF transfer (bind_meta_app) follows this meta key.
V_BIND_META_KEY = "bind_meta_key"
# Applications run on a leg when each of its bridges starts / ends: FreeSWITCH runs
# every variable whose name starts with execute_on_pre_bridge / execute_on_post_bridge
# (switch_channel_execute_on), so ours have their own names.
V_BIND_TRANSFER_KEYS = "execute_on_pre_bridge_centrex_transfer"
V_BIND_CONFERENCE_KEY = "execute_on_pre_bridge_centrex_conference"
V_UNBIND_TRANSFER_KEYS = "execute_on_post_bridge_centrex_transfer"

# Leg and caller-ID variables.
V_LEG_TIMEOUT = "leg_timeout"
V_CONFIRM_KEY = "group_confirm_key"
V_CONFIRM_FILE = "group_confirm_file"
V_CONFIRM_CANCEL_TIMEOUT = "group_confirm_cancel_timeout"
V_ALERT_INFO = "alert_info"
V_SIP_CID_TYPE = "sip_cid_type"
H_PRIVACY = "sip_h_Privacy"
H_ASSERTED_IDENTITY = "sip_h_P-Asserted-Identity"
H_DIVERSION = "sip_h_Diversion"
ANONYMOUS_NUMBER = "anonymous"
ANONYMOUS_NAME = "Anonymous"
# Caller ID numbers carriers and phones use for a withheld number.
WITHHELD_NUMBERS = frozenset({"", "anonymous", "unknown", "restricted", "private", "0"})

# Prompts of FreeSWITCH's standard sound set.
PROMPT_ACCEPT = "ivr/ivr-accept_reject_voicemail.wav"
PROMPT_SAY_NAME = "ivr/ivr-please_state_your_name_and_reason_for_calling.wav"
PROMPT_REJECTED = "ivr/ivr-call_rejected.wav"
# Told to a caller whose call is barred (`xmlcurl.barring`).
PROMPT_BARRED = "ivr/ivr-call_cannot_be_completed_as_dialed.wav"
PROMPT_NO_ANONYMOUS = "ivr/ivr-not_accept_anonymous_calls.wav"
# Where a screened caller's name is recorded, on the FreeSWITCH node (expanded there).
SCREENING_RECORDING = "${recordings_dir}/centrex-screening-${uuid}.wav"

# The context calls from the public network (carriers) arrive in.
PUBLIC_CONTEXT = "public"

# Dialplan applications.
APP_SET = "set"
APP_UNSET = "unset"
APP_BRIDGE = "bridge"
APP_TRANSFER = "transfer"
APP_ANSWER = "answer"
APP_PRE_ANSWER = "pre_answer"
APP_PLAYBACK = "playback"
APP_HANGUP = "hangup"
APP_VOICEMAIL = "voicemail"
APP_EXPORT = "export"
APP_BIND_META_APP = "bind_meta_app"
APP_UNBIND_META_APP = "unbind_meta_app"
APP_EXECUTE_EXTENSION = "execute_extension"
APP_READ = "read"
APP_ATT_XFER = "att_xfer"
APP_SLEEP = "sleep"
# mod_loopback replaces an answered loopback pair by a direct bridge unless told not
# to; att_xfer must keep the leg it originated to hand the held party over.
V_LOOPBACK_BOWOUT = "loopback_bowout"
# Marks a DTMF transfer's consultation leg (att_xfer's loopback), which Centrex itself
# gives the transferring line (`V_PEER_LINE`): a transfer, like a REFER's hunt.
V_CONSULTATION = "centrex_consultation"
APP_RECORD = "record"

VOICEMAIL_PROFILE = "default"

# Directory params.
P_A1_HASH = "a1-hash"
P_DIAL_STRING = "dial-string"
P_VM_ENABLED = "vm-enabled"
# md5 of id:domain:PIN. Without it mod_voicemail checks the typed PIN against the SIP
# a1-hash, so the SIP password would open the box too.
P_VM_A1_HASH = "vm-a1-hash"
# sofia lets a user without password or a1-hash in unchecked unless this is false.
P_ALLOW_EMPTY_PASSWORD = "allow-empty-password"
P_VM_MAILTO = "vm-mailto"
P_VM_EMAIL_ALL = "vm-email-all-messages"
P_VM_ATTACH_FILE = "vm-attach-file"
P_VM_KEEP_LOCAL = "vm-keep-local-after-email"

# The vanilla user dial string: every registered contact of the user, on any profile,
# with the presence id BLF keys watch.
USER_DIAL_STRING = (
    "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}"
    "${sofia_contact(*/${dialed_user}@${dialed_domain})}"
)
# The same contacts for one line named outright (`str.format` with extension, domain),
# for a bridge that dials them without asking the directory.
LINE_CONTACTS = "${{sofia_contact(*/{extension}@{domain})}}"
V_SIP_INVITE_DOMAIN = "sip_invite_domain"

# Hangup causes (switch_channel_cause names) and the originate dispositions they leave.
USER_BUSY = "USER_BUSY"
NO_ANSWER = "NO_ANSWER"
NO_USER_RESPONSE = "NO_USER_RESPONSE"
USER_NOT_REGISTERED = "USER_NOT_REGISTERED"
SUBSCRIBER_ABSENT = "SUBSCRIBER_ABSENT"
CALL_REJECTED = "CALL_REJECTED"
ORIGINATOR_CANCEL = "ORIGINATOR_CANCEL"
UNALLOCATED_NUMBER = "UNALLOCATED_NUMBER"
NO_ROUTE_DESTINATION = "NO_ROUTE_DESTINATION"
INVALID_NUMBER_FORMAT = "INVALID_NUMBER_FORMAT"
NORMAL_CLEARING = "NORMAL_CLEARING"
OUTGOING_CALL_BARRED = "OUTGOING_CALL_BARRED"
NORMAL_TEMPORARY_FAILURE = "NORMAL_TEMPORARY_FAILURE"
# What `originate_disposition` holds after a bridge that was answered.
ANSWERED_DISPOSITIONS = frozenset({"SUCCESS", "ANSWER", "call accepted"})

# Event socket: frame envelope, content types and event headers (FREESWITCH.md §5-7).
EV_CONTENT_LENGTH = "Content-Length"
EV_CONTENT_TYPE = "Content-Type"
EV_REPLY_TEXT = "Reply-Text"
EV_JOB_UUID = "Job-UUID"
CT_AUTH_REQUEST = "auth/request"
CT_COMMAND_REPLY = "command/reply"
CT_API_RESPONSE = "api/response"
CT_EVENT_PLAIN = "text/event-plain"
CT_DISCONNECT = "text/disconnect-notice"
CT_RUDE_REJECTION = "text/rude-rejection"
EV_EVENT_NAME = "Event-Name"
EV_EVENT_SUBCLASS = "Event-Subclass"
EV_HOSTNAME = "FreeSWITCH-Hostname"
EV_CORE_UUID = "Core-UUID"
EV_TIMESTAMP = "Event-Date-Timestamp"  # microseconds since the epoch
# Channel events: identity, state, and who the leg belongs to.
EV_CALL_DIRECTION = "Call-Direction"  # inbound: from the phone; outbound: to it
EV_CHANNEL_NAME = "Channel-Name"
SOFIA_CHANNEL_PREFIX = "sofia/"
EV_CALL_STATE = "Channel-Call-State"
EV_ANSWER_STATE = "Answer-State"
EV_PRESENCE_ID = "Channel-Presence-ID"
EV_OTHER_LEG_UUID = "Other-Leg-Unique-ID"
CALL_STATE_HANGUP = "HANGUP"
CALL_STATE_ACTIVE = "ACTIVE"
CALL_STATE_HELD = "HELD"
V_DIALED_USER = "dialed_user"
V_DIALED_DOMAIN = "dialed_domain"
# Channel events: the ones the listener follows.
EVENT_CHANNEL_CREATE = "CHANNEL_CREATE"
EVENT_CHANNEL_CALLSTATE = "CHANNEL_CALLSTATE"
EVENT_CHANNEL_ANSWER = "CHANNEL_ANSWER"
EVENT_CHANNEL_HOLD = "CHANNEL_HOLD"
EVENT_CHANNEL_UNHOLD = "CHANNEL_UNHOLD"
EVENT_CHANNEL_DESTROY = "CHANNEL_DESTROY"
EVENT_PRESENCE_PROBE = "PRESENCE_PROBE"
EVENT_PRESENCE_IN = "PRESENCE_IN"
EVENT_HEARTBEAT = "HEARTBEAT"
EVENT_BACKGROUND_JOB = "BACKGROUND_JOB"
# sofia registration events (CUSTOM subclasses) and their headers.
EVENT_SOFIA_REGISTER = "sofia::register"
EVENT_SOFIA_UNREGISTER = "sofia::unregister"
EVENT_SOFIA_EXPIRE = "sofia::expire"
REG_USERNAME = "username"  # the digest-authenticated user, not the From header
REG_REALM = "realm"
REG_CALL_ID = "call-id"
REG_CONTACT = "contact"
REG_EXPIRES = "expires"
REG_USER_AGENT = "user-agent"
REG_NETWORK_IP = "network-ip"
REG_NETWORK_PORT = "network-port"
# Presence events (PRESENCE_IN we publish, PRESENCE_PROBE phones' subscriptions cause).
PR_PROTO = "proto"
PR_FROM = "from"
PR_TO = "to"
PR_STATUS = "status"
PR_RPID = "rpid"
PR_EVENT_TYPE = "event_type"
PR_ALT_EVENT_TYPE = "alt_event_type"
PR_UNIQUE_ID = "unique-id"
PR_ANSWER_STATE = "answer-state"
PR_CHANNEL_STATE = "channel-state"
PR_CALL_DIRECTION = "presence-call-direction"
PR_EVENT_COUNT = "event_count"
PROTO_SIP = "sip"
PROTO_DND = "dnd"
PROTO_GROUP = "grp"
# A node's registrations, from sofia itself: its switch name (the host of its rows),
# its profiles, each profile's registrations.
API_SWITCHNAME = "switchname"
SOFIA_PROFILES = "sofia xmlstatus"
SOFIA_REGISTRATIONS = "sofia status profile {profile} reg"
# `show channels as json` columns.
SHOW_CHANNELS = "show channels as json"
COL_UUID = "uuid"
COL_DIRECTION = "direction"
COL_CREATED_EPOCH = "created_epoch"
COL_CALLSTATE = "callstate"
COL_PRESENCE_ID = "presence_id"
COL_CID_NUM = "cid_num"
COL_CID_NAME = "cid_name"
COL_DEST = "dest"
COL_CALL_UUID = "call_uuid"
# Calls Centrex places itself (click-to-call, reminders): API commands, the `originate`
# variables that shape the new leg, and its answer (`+OK <uuid>` / `-ERR <cause>`).
API_ORIGINATE = "originate"
API_BGAPI = "bgapi"
BGAPI_JOB_PREFIX = "uuid:"  # `bgapi uuid:<job> <command>`: we choose the Job-UUID
BGAPI_ACCEPTED = "+OK Job-UUID: "
REPLY_OK = "+OK"
REPLY_ERR = "-ERR"
DIALPLAN_XML = "XML"
USER_ENDPOINT = "user/"
V_ORIGINATION_UUID = "origination_uuid"
V_ORIGINATE_TIMEOUT = "originate_timeout"
V_ORIGINATION_CID_NAME = "origination_caller_id_name"
V_ORIGINATION_CID_NUMBER = "origination_caller_id_number"
# An originated leg's caller and callee IDs swap when it enters the dialplan: the
# callee ID set here is what the dialplan then sees as the caller.
V_ORIGINATION_CALLEE_ID_NAME = "origination_callee_id_name"
V_ORIGINATION_CALLEE_ID_NUMBER = "origination_callee_id_number"
# Ours: marks a reminder's call leg with the reminder's id (CDRs, the live view).
V_REMINDER = "centrex_reminder"
FILE_STRING = "file_string://"
FILE_STRING_SEPARATOR = "!"
SILENCE_MS = "silence_stream://{ms}"
PROMPT_WAKEUP = "ivr/ivr-this_is_your_wakeup_call.wav"
# mod_xml_cdr (FREESWITCH.md §8): the posted form field, the files left in err-log-dir
# (`[a_]<uuid>.cdr.xml`), the record's elements, and the variables the call log reads.
CDR_FIELD = "cdr"
CDR_ROOT = "cdr"  # the record's root element
CDR_FILE_SUFFIX = ".cdr.xml"
CDR_SWITCHNAME = "switchname"  # attribute of the root element: the node's name
CDR_VARIABLES = "variables"
CDR_CALLFLOW = "callflow"  # one per dialplan hunt, the latest first
CDR_CALLER_PROFILE = "caller_profile"
CP_CONTEXT = "context"
CP_DESTINATION = "destination_number"
CP_CALLER_ID_NUMBER = "caller_id_number"
CP_CALLER_ID_NAME = "caller_id_name"
CP_SOURCE = "source"
SOURCE_LOOPBACK = "mod_loopback"
LOOPBACK_CHANNEL_PREFIX = "loopback/"
# A leg's `direction`: "outbound" legs were called out (to a phone, a trunk), "inbound"
# ones called in.
DIRECTION_OUTBOUND = "outbound"
DIRECTION_INBOUND = "inbound"
V_UUID = "uuid"
V_DIRECTION = "direction"
V_ORIGINATOR = "originator"  # on a B leg: the A leg that rang it
V_ORIGINATING_LEG_UUID = "originating_leg_uuid"
V_BRIDGE_UUID = "bridge_uuid"
V_LAST_BRIDGE_TO = "last_bridge_to"
V_BRIDGE_CHANNEL = "bridge_channel"
# How a leg left its call, when it handed it on: sofia sets it on the leg that sent a
# REFER (blind, or attended with Replaces).
V_ENDPOINT_DISPOSITION = "endpoint_disposition"
# Set by the core when a leg is answered; sofia replaces it on a REFER, before it moves
# the other party.
DISPOSITION_ANSWER = "ANSWER"
# Whether a leg's call record is made: read as it stands when the leg is done ("false"
# skips every module's, mod_xml_cdr's included).
V_PROCESS_CDR = "process_cdr"
# Run on a leg when a bridge of its ends (mod_dptools `set` runs on a leg hung up).
V_POST_BRIDGE_RECORD = "execute_on_post_bridge_centrex_record"
# Lets a leg variable set by originate hold `${` (refused otherwise).
V_NESTED_VARS = "origination_nested_vars"
# What ended a leg's bridge: its phone's BYE (sofia, before the leg hangs up), the
# other party's hangup (the core, on the other party when it hangs up).
V_SIP_HANGUP_DISPOSITION = "sip_hangup_disposition"
RECEIVED_BYE = "recv_bye"
V_LAST_BRIDGE_HANGUP_CAUSE = "last_bridge_hangup_cause"
TRANSFER_DISPOSITIONS = frozenset({"BLIND_TRANSFER", "ATTENDED_TRANSFER"})
# Ours: set on a line's leg when it starts a DTMF transfer's consultation (att_xfer); the
# leg ending while bridged to the consultation handed its call over.
V_TRANSFERRING = "centrex_transferring"
V_IS_LOOPBACK = "is_loopback"
V_OTHER_LOOPBACK_LEG_UUID = "other_loopback_leg_uuid"
V_CHANNEL_NAME = "channel_name"
V_PRESENCE_ID = "presence_id"
V_HANGUP_CAUSE = "hangup_cause"
V_START_UEPOCH = "start_uepoch"  # microseconds since the epoch; 0 when it never happened
V_ANSWER_UEPOCH = "answer_uepoch"
V_BRIDGE_UEPOCH = "bridge_uepoch"
V_END_UEPOCH = "end_uepoch"
V_DURATION = "duration"  # seconds, start to end
V_BILLSEC = "billsec"  # seconds, answer to end
# Configuration fetches (`section=configuration`, `key_value=<name>.conf`) and
# mod_local_stream's configuration: one <directory name path> per stream, its params.
SECTION_CONFIGURATION = "configuration"
CONF_LOCAL_STREAM = "local_stream.conf"
LOCAL_STREAM_URL = "local_stream://"
LOCAL_STREAM_START = "local_stream start"  # API: start a stream configured since load
# API: the carriers' profile reads gateways when it starts; these make it read them again.
SOFIA_PROFILE_EXTERNAL = "sofia profile external"
SOFIA_RESCAN = "rescan"
SOFIA_KILLGW = "killgw"
LS_RATE = "rate"
LS_SHUFFLE = "shuffle"
LS_CHANNELS = "channels"
LS_INTERVAL = "interval"
LS_TIMER_NAME = "timer-name"
# The stock hold music streams (freeswitch-music-default under FreeSWITCH's sounds
# directory, a variable FreeSWITCH's preprocessor expands in the answer). A call asking
# for a stream that is not running gets `default`.
STREAM_MOH = "moh"
STREAM_DEFAULT = "default"
SOUNDS_DIR_VAR = "$${sounds_dir}"
STOCK_MUSIC_DIR = SOUNDS_DIR_VAR + "/music/8000"
# mod_xml_curl discards longer answers (`response-max-bytes`, default 1 MiB).
XML_CURL_MAX_BYTES = 1024 * 1024
# mod_callcenter (FREESWITCH.md §6): callcenter.conf, the `callcenter` application,
# what it leaves on the caller's channel, and its `callcenter_config` API.
CONF_CALLCENTER = "callcenter.conf"
CC_QUEUE = "CC-Queue"  # param of a `load_queue` configuration fetch: the queue's name
CC_LOAD_QUEUE = "load_queue"  # its Event-Calling-Function
APP_CALLCENTER = "callcenter"
V_HOLD_MUSIC = "hold_music"
# A queue's wait limit, kept also while an agent's phone rings (mod_callcenter's own
# max-wait-time waits for the offer to end): `sched_transfer` of the caller back to the
# queue's number at max_wait, with the stage below, cancelled (`sched_cancel`; the API
# `sched_del` of the channel's task group, which is its uuid) when the caller leaves
# the queue otherwise. An agent's leg gets, through `cc_export_vars`, `api_on_answer*`
# variables that cancel it and clear the stage as soon as the agent answers.
APP_SCHED_TRANSFER = "sched_transfer"
APP_SCHED_CANCEL = "sched_cancel"
API_SCHED_DEL = "sched_del"
API_UUID_SETVAR = "uuid_setvar"
V_CC_EXPORT_VARS = "cc_export_vars"
V_API_ON_ANSWER_CANCEL_WAIT = "api_on_answer_centrex_cancel_wait"
V_API_ON_ANSWER_CLEAR_STAGE = "api_on_answer_centrex_clear_stage"
STAGE_QUEUE_WAIT = "queue_wait"
CC_AGENT_TYPE_CALLBACK = "callback"
CC_STATUS_AVAILABLE = "Available"
CC_STATUS_LOGGED_OUT = "Logged Out"
CC_STATUS_ON_BREAK = "On Break"
CC_API = "callcenter_config"
CC_AGENT_SET_STATUS = "agent set status"
CC_AGENT_RELOAD = "agent reload"
CC_TIER_ADD = "tier add"
CC_TIER_DEL = "tier del"
CC_QUEUE_LIST_MEMBERS = "queue list members"
CC_AGENT_NOT_FOUND = "-ERR Agent not found!"
CC_TIER_EXISTS = "-ERR Tier already exist!"
# `queue list members` columns (counted from the right: caller names may hold `|`)
# and the states of callers still waiting for an agent.
CC_MEMBER_UUID = "uuid"
CC_MEMBER_JOINED_EPOCH = "joined_epoch"
CC_MEMBER_STATE = "state"
CC_MEMBER_WAITING_STATES = frozenset({"Waiting", "Trying"})
# settings
CC_DBNAME = "dbname"
CC_INSTANCE_ID = "cc-instance-id"
CC_TRUNCATE_AGENTS = "truncate-agents-on-load"
CC_TRUNCATE_TIERS = "truncate-tiers-on-load"
CC_RESERVE_AGENTS = "reserve-agents"
CC_AGENT_ORIGINATE_TIMEOUT = "agent-originate-timeout"
# queue params
CC_STRATEGY = "strategy"
CC_MOH_SOUND = "moh-sound"
CC_TIME_BASE_SCORE = "time-base-score"
CC_TIER_RULES_APPLY = "tier-rules-apply"
CC_TIER_RULE_WAIT_SECOND = "tier-rule-wait-second"
CC_TIER_RULE_WAIT_MULTIPLY_LEVEL = "tier-rule-wait-multiply-level"
CC_TIER_RULE_NO_AGENT_NO_WAIT = "tier-rule-no-agent-no-wait"
CC_DISCARD_ABANDONED_AFTER = "discard-abandoned-after"
CC_ABANDONED_RESUME_ALLOWED = "abandoned-resume-allowed"
CC_MAX_WAIT_TIME = "max-wait-time"
CC_MAX_WAIT_NO_AGENT = "max-wait-time-with-no-agent"
CC_MAX_WAIT_NO_AGENT_REACHED = "max-wait-time-with-no-agent-time-reached"
CC_AGENT_NO_ANSWER_STATUS = "agent-no-answer-status"
CC_SKIP_AGENTS_WITH_EXTERNAL_CALLS = "skip-agents-with-external-calls"
# strategies
CC_LONGEST_IDLE = "longest-idle-agent"
CC_RING_ALL = "ring-all"
CC_ROUND_ROBIN = "round-robin"
CC_TOP_DOWN = "top-down"
CC_FEWEST_CALLS = "agent-with-fewest-calls"
CC_LEAST_TALK_TIME = "agent-with-least-talk-time"
CC_RANDOM = "random"
# agent attributes
CC_NAME = "name"
CC_TYPE = "type"
CC_CONTACT = "contact"
CC_STATUS = "status"
CC_MAX_NO_ANSWER = "max-no-answer"
CC_WRAP_UP_TIME = "wrap-up-time"
CC_REJECT_DELAY_TIME = "reject-delay-time"
CC_BUSY_DELAY_TIME = "busy-delay-time"
CC_NO_ANSWER_DELAY_TIME = "no-answer-delay-time"
# tier attributes
CC_AGENT = "agent"
CC_QUEUE_ATTR = "queue"
CC_LEVEL = "level"
CC_POSITION = "position"
# Hunt groups (xmlcurl.group): what rings a group's members, the stage of a failed
# group ring, the markers its legs carry (the listener stores who answered), and the
# CUSTOM event a member's log-in code fires (the dialplan cannot write to Centrex).
STAGE_GROUP = "group"
V_GROUP = "centrex_group"  # on a member's leg: `<group extension>@<domain>`
V_GROUP_MEMBER = "centrex_group_member"  # on a member's leg: the member's extension
V_RINGBACK = "ringback"
V_IGNORE_EARLY_MEDIA = "ignore_early_media"
LOOPBACK_ENDPOINT = "loopback/"
APP_EVENT = "event"
EVENT_CUSTOM = "CUSTOM"
EVENT_GROUP_LOGIN = "centrex::group_login"
EV_GROUP_DOMAIN = "Centrex-Domain"
EV_GROUP_NUMBER = "Centrex-Group"
EV_GROUP_MEMBER = "Centrex-Member"
EV_GROUP_LOGGED_IN = "Centrex-Logged-In"  # "true" or "false"
PROMPT_LOGGED_IN = "ivr/ivr-you_are_now_logged_in.wav"
PROMPT_LOGGED_OUT = "ivr/ivr-you_are_now_logged_out.wav"
PROMPT_NO_USER_RESPONSE = "ivr/ivr-no_user_response.wav"
# Directed pickup: `intercept <caller's leg>` takes the call that rings a phone; with
# intercept_unanswered_only it refuses a call already answered.
APP_INTERCEPT = "intercept"
V_INTERCEPT_UNANSWERED_ONLY = "intercept_unanswered_only"
PROMPT_NOTHING_TO_PICK_UP = "ivr/ivr-no_user_response.wav"
# Star codes that change a setting (xmlcurl.star_codes): the confirmation prompts, and
# the number asked for when a forwarding code is dialled alone: play_and_get_digits
# leaves what was typed in a variable, the transfer that follows expands it, and the
# mark tells the next fetch that the question was asked.
APP_PLAY_AND_GET_DIGITS = "play_and_get_digits"
V_STAR_DIGITS = "centrex_star_digits"
V_STAR_ASKED = "centrex_star_asked"
PROMPT_ENTER_NUMBER = "ivr/ivr-enter_destination_telephone_number.wav"
PROMPT_FORWARD_SET = "ivr/ivr-call_forwarding_has_been_set.wav"
PROMPT_FORWARD_CANCELLED = "ivr/ivr-call_forwarding_has_been_cancelled.wav"
PROMPT_DND_ON = "ivr/ivr-dnd_activated.wav"
PROMPT_DND_OFF = "ivr/ivr-dnd_cancelled.wav"

# Call park (mod_valet_parking, 1.10.12): `valet_park <lot> auto in <slot> <slot>` parks
# the channel in that slot if it is free (else returns: "lot full"); `... auto out <slot>
# <slot>` bridges the caller to the call parked there (else returns: "lot empty").
# With `valet_parking_timeout` and no orbit extension, the parked call's application
# returns after that many seconds, and the dialplan goes on. Lots are named
# `park@<domain>`: mod_valet_parking answers a phone's `park+<slot>@<domain>` key
# (PRESENCE_PROBE) from the lot whose name holds the domain, and sends PRESENCE_IN
# (proto `park`, from `<slot>@<domain>`) when a call is parked or leaves.
APP_VALET_PARK = "valet_park"
VALET_LOT_PREFIX = "park@"
VALET_AUTO_IN = "auto in"
VALET_AUTO_OUT = "auto out"
V_VALET_PARKING_TIMEOUT = "valet_parking_timeout"
V_VALET_HOLD_MUSIC = "valet_hold_music"
# What a parked call hears. Not hold music: the parking counts its timeout in audio
# frames played, and replays a music that fails to open at once, in a loop, never
# timing out (a missing stream or file would keep the call parked forever).
VALET_SILENCE = "silence_stream://-1"
# mod_valet_parking forgets a slot's last call only every 5 s: dialled meanwhile, the
# slot takes the caller for a call to park (`auto out` on a stale record). Whoever only
# meant to take a call is then let go after this many seconds (in silence too: the
# timeout counts frames played), never left parked.
VALET_RETRIEVER_TIMEOUT = "1"
V_VALET_ANNOUNCE_SLOT = "valet_announce_slot"
# Cleared before parking: with them, valet_park would park the channel's former bridge
# partner instead (switch_channel_get_partner_uuid).
V_SIGNAL_BOND = "signal_bond"
V_ORIGINATE_SIGNAL_BOND = "originate_signal_bond"
# Who parked a call: the REFER's Referred-By (sofia, on the transferred channel), else
# the line `user/` last rang from this channel.
V_REFERRED_BY = "sip_h_Referred-By"
V_DIALED_USER = "dialed_user"

# mod_conference (xmlcurl.conference): conference.conf, the `conference` application
# (`<room>@<profile>[+<pin>][+flags{a|b}]`, mod_conference.c conference_function),
# the channel variables it reads when it creates a room or asks for the PIN, and the
# DTMF binding that starts an ad-hoc conference from a call.
CONF_CONFERENCE = "conference.conf"
APP_CONFERENCE = "conference"
CONFERENCE_PROFILE = "centrex"  # meet-me rooms
CONFERENCE_ADHOC_PROFILE = "centrex-adhoc"  # ad-hoc conferences started from a call
CONFERENCE_CONTROLS = "centrex"
V_CONFERENCE_MAX_MEMBERS = "conference_max_members"
V_CONFERENCE_MODERATOR_PIN = "conference_moderator_pin"
CONF_FLAG_MODERATOR = "moderator"
# The conference ends when the last member with it leaves (not the first, as `endconf`).
CONF_FLAG_MANDATORY_ENDCONF = "mandatory_member_endconf"
CONF_FLAG_WAIT_MOD = "wait-mod"
APP_BIND_META_APP = "bind_meta_app"
APP_EXECUTE_EXTENSION = "execute_extension"
INLINE_DIALPLAN = "inline"
# conference.conf params.
CP_RATE = "rate"
CP_INTERVAL = "interval"
CP_ENERGY_LEVEL = "energy-level"
CP_CALLER_CONTROLS = "caller-controls"
CP_MOH_SOUND = "moh-sound"
CP_COMFORT_NOISE = "comfort-noise"
CP_PIN_SOUND = "pin-sound"
CP_BAD_PIN_SOUND = "bad-pin-sound"
CP_PIN_RETRIES = "pin-retries"
CP_MAX_MEMBERS = "max-members"
