"""`hallq voice`: make, list and test the hall's voice (a clip set, the calls rendered from it)."""

from __future__ import annotations

import shutil
import wave
from collections import Counter
from pathlib import Path

import click
from hallq_edge import speech
from hallq_edge.announce import play_command, play_wav
from hallq_edge.voice import ClipVoice, EspeakVoice, VoiceError, wav_seconds

from . import voice_from_settings

FOLDER = click.Path(file_okay=False, path_type=Path)


@click.group()
def voice() -> None:
    """The hall's voice: the recorded clip set, and calls rendered as the screens say them."""


@voice.command("make")
@click.argument("folder", type=FOLDER)
@click.option("--voice", "voice_name", default=None, help="espeak-ng voice (default: the voice_name setting).")
@click.option("--speed", default=None, type=click.IntRange(80, 450), help="Words per minute (default: voice_speed).")
@click.option("--force", is_flag=True, help="Render every clip, replacing those already there.")
@click.pass_context
def make(ctx, folder: Path, voice_name: str | None, speed: int | None, force: bool) -> None:
    """Render the clip set into FOLDER with espeak-ng (please.wav, go_to.wav, window.wav, 0–9, ten, hundred, A–Z).

    Clips already there are kept unless --force: record over any of them (same format, see
    `hallq voice list`) and the hall speaks in that voice."""
    settings = ctx.obj["settings"]
    espeak = EspeakVoice(voice=voice_name or settings.voice_name, speed=speed or settings.voice_speed)
    folder.mkdir(parents=True, exist_ok=True)
    made = kept = 0
    for name, word in speech.CLIP_SET.items():
        path = folder / f"{name}.wav"
        if path.exists() and not force:
            kept += 1
            continue
        try:
            espeak.render_words([word], path)
        except VoiceError as exc:
            raise click.ClickException(str(exc)) from None
        made += 1
    click.echo(f"{made} clips rendered, {kept} kept, in {folder}")
    click.echo(f'server: voice_engine = "clips", voice_clips_dir = "{folder.resolve()}"; '
               f'edge: [announce] engine = "clips", clips_dir = "{folder.resolve()}"')


def _describe(path: Path) -> tuple[str, tuple | None]:
    """A clip's format as text, and as (channels, bits, rate) to compare; None when it is unusable."""
    try:
        with wave.open(str(path), "rb") as w:
            fmt = (w.getnchannels(), 8 * w.getsampwidth(), w.getframerate())
            seconds = w.getnframes() / float(w.getframerate() or 1)
    except (wave.Error, EOFError, OSError) as exc:
        return f"not a PCM WAV file ({exc})", None
    return f"{fmt[2]} Hz, {fmt[1]} bit, {'mono' if fmt[0] == 1 else f'{fmt[0]} channels'}, {seconds:.2f} s", fmt


@voice.command("list")
@click.argument("folder", required=False, type=FOLDER)
@click.pass_context
def list_(ctx, folder: Path | None) -> None:
    """What the clip set in FOLDER (default: voice_clips_dir) holds and lacks, and the calls rendered so far.

    Exits with 1 when a clip is missing or unlike the others."""
    settings = ctx.obj["settings"]
    engine = settings.voice_engine
    detail = {"espeak": f"espeak-ng voice {settings.voice_name}, speed {settings.voice_speed}"
                        + ("" if shutil.which("espeak-ng") else " (espeak-ng is NOT installed)"),
              "clips": f"clips in {settings.voice_clips_dir}", "none": "screens use the browser's own voice"}[engine]
    click.echo(f"voice: {engine} ({detail})")
    cache = settings.effective_voice_cache_dir
    rendered = list(cache.glob("*.wav")) if cache.is_dir() else []
    size = sum(p.stat().st_size for p in rendered) / 1e6
    click.echo(f"rendered calls: {len(rendered)} in {cache} ({size:.1f} MB, at most {settings.voice_cache_files} kept)")
    folder = folder or (Path(settings.voice_clips_dir) if settings.voice_clips_dir else None)
    if folder is None:
        click.echo("no clip set configured (voice_clips_dir); `hallq voice make DIR` starts one")
        return
    click.echo(f"clip set {folder}:")
    described = {name: _describe(folder / f"{name}.wav") if (folder / f"{name}.wav").is_file() else ("MISSING", None)
                 for name in speech.CLIP_SET}
    formats = Counter(fmt for _, fmt in described.values() if fmt)
    usual = formats.most_common(1)[0][0] if formats else None  # the set's format: what most clips share
    bad = 0
    for name, word in speech.CLIP_SET.items():
        text, fmt = described[name]
        odd = fmt is not None and fmt != usual
        bad += fmt is None or odd
        click.echo(f"  {name + '.wav':<13} {word.zh:<6} {text}{'  ← unlike the others' if odd else ''}")
    click.echo(f"{len(speech.CLIP_SET) - bad} of {len(speech.CLIP_SET)} clips usable")
    if bad:
        ctx.exit(1)


@voice.command("test")
@click.argument("number")
@click.argument("window", type=click.IntRange(1, 9999))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--clips", "clips_dir", type=FOLDER, default=None, help="Say it with this clip set instead of the configured voice.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="WAV file to write (default: call-NUMBER-WINDOW.wav in this folder).")
@click.option("--play", is_flag=True, help="Also play it here (aplay or paplay).")
@click.pass_context
def test(ctx, number: str, window: int, lang: str, clips_dir: Path | None, out: Path | None, play: bool) -> None:
    """Render the call of ticket NUMBER to window WINDOW exactly as the screens will say it, to a WAV file."""
    number = number.upper()
    if not speech.TICKET_NUMBER.fullmatch(number):
        raise click.BadParameter("a ticket number is a letter prefix and digits, like A032", param_hint="NUMBER")
    settings = ctx.obj["settings"]
    said = ClipVoice(clips_dir) if clips_dir else voice_from_settings(settings)
    if said is None:
        raise click.ClickException("voice_engine is none: the server renders no calls (give --clips DIR to try a clip set)")
    out = out or Path(f"call-{number}-{window}.wav")
    click.echo(speech.call_text(number, window, lang))
    if isinstance(said, EspeakVoice):
        click.echo(f"espeak-ng -v {said.voice if lang == 'zh' else said.english}: {said.script(number, window, lang)}")
    else:
        click.echo("clips: " + " ".join(p.name for p in said.files(number, window)))
    try:
        said.render(number, window, lang, out)
    except VoiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{out}: {wav_seconds(out):.1f} s")
    if play:
        why = play_wav(out, play_command())
        if why:
            raise click.ClickException(f"could not play it: {why}")
