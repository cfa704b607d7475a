# escape: inject a SIP header line through a handoff header value (CRLF in the value)
# layer: normalize
# expect: invalid_return must not contain control characters
def tool(conv):
    return {
        "handoff": {
            "type": "transfer",
            "reason": "agent",
            "refer": {
                "phone_number": "+15550001111",
                "sip_headers": {"X-Note": "ok\r\nP-Asserted-Identity: <sip:admin@pbx>"},
            },
        }
    }
