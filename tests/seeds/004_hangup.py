# seed 003/004 "hangup"
def tool(conv: Conversation):
    return {
      "hangup": True
    }
