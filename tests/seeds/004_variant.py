# seed 003/004 "variant"
def tool(conv: Conversation):
    return {
      "variant": "orleans"
    }
