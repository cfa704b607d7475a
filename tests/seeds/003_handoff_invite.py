# seed 003 "invite"
def tool(conv: Conversation):
    return {
      "handoff": {
        "invite": {
          "phone_number": "<eg: 2222222>",
          "outbound_caller_id": conv.caller_number,
          "outbound_endpoint": "<ADD_YOUR_OUTBOUND_ENDPOINT_NAME>",
          "sip_headers": {
            "X-ANY_HEADER_NAME": "header"
          }
        }
      }
    }
