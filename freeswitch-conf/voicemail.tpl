To: <${voicemail_email}>
From: "Voicemail" <${voicemail_account}@${voicemail_domain}>
Subject: New voicemail from ${voicemail_caller_id_name} <${voicemail_caller_id_number}>
X-Priority: ${voicemail_priority}
Content-Type: multipart/alternative;
	boundary="000XXX000"

--000XXX000
Content-Type: text/plain; charset=UTF-8; Format=Flowed
Content-Transfer-Encoding: 8bit

A new message was left in your voicemail box ${voicemail_account}.

From:     ${voicemail_caller_id_name} <${voicemail_caller_id_number}>
Received: ${voicemail_time}
Length:   ${voicemail_message_len} seconds

--000XXX000--
