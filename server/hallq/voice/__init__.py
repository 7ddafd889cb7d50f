"""The hall's voice on the server: every call rendered to a WAV once, off the
request and transaction path, for the browser screens to play. The words and
the rendering are hallq_edge's (speech.py, voice.py), so a browser screen and
an edge call screen say a call alike."""

from __future__ import annotations

from hallq_edge.voice import VoiceCache, make_voice

from ..core.events import DomainEvent

CALLS = ("ticket.called", "ticket.recalled")


def voice_from_settings(settings):
    """The configured voice (EspeakVoice or ClipVoice), or None for voice_engine = none."""
    return make_voice(settings.voice_engine, voice=settings.voice_name, speed=settings.voice_speed,
                      clips_dir=settings.voice_clips_dir)


def cache_from_settings(settings) -> VoiceCache | None:
    voice = voice_from_settings(settings)
    if voice is None:
        return None
    return VoiceCache(voice, settings.effective_voice_cache_dir, max_files=settings.voice_cache_files)


class VoicePublisher:
    """Starts rendering each call as it is published, so the screens' request for it finds it made (or nearly)."""

    def __init__(self, cache: VoiceCache):
        self.cache = cache

    def publish(self, event: DomainEvent) -> None:
        number = event.data.get("number")
        if event.kind in CALLS and isinstance(number, str) and event.window is not None:
            self.cache.prepare(number, event.window)  # queues and returns: never waits


def init_voice(hallq) -> None:
    """Give hallq the server's voice cache, as its settings say (None: screens use their own voice)."""
    hallq.voice = cache_from_settings(hallq.settings)
    if hallq.voice is not None:
        hallq.publisher.add(VoicePublisher(hallq.voice))
