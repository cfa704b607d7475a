# seed 002 "Read a language code from SIP headers ... configure a language-specific TTS voice"
def start_function(conv: Conversation):
    language = conv.sip_headers.get("X-Language", "en")
    conv.set_variant(language)

    if language == "es":
        from polyai.voice import CartesiaVoice
        conv.set_voice(CartesiaVoice(provider_voice_id="your-voice-id"))
    return str()
